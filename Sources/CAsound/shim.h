/* libasound for Swift (imported by Nodes only). The helpers below are the few things Swift
 * cannot do itself (swift-systems-notes §3): define a variadic error handler, use the *_alloca
 * macros, or build a private config tree in one call. Static inline: compiled by the importer. */
#ifndef SLUICE_CASOUND_SHIM_H
#define SLUICE_CASOUND_SHIM_H

#include <alsa/asoundlib.h>

/* snd_lib_error_handler_t is variadic: Swift cannot define one. This one drops every message,
 * so a failed open does not print "ALSA lib ..." lines on the daemon's stderr; Sluice reports
 * the error code itself, with context. */
static void sluice_alsa_quiet_handler(const char *file, int line, const char *function, int err,
                                      const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

/* Silences libasound's error printing process-wide. Idempotent. */
static inline int sluice_alsa_silence_errors(void) {
    return snd_lib_error_set_handler(sluice_alsa_quiet_handler);
}

/* Parses `text` (alsa.conf syntax) into a fresh top-level config tree for snd_pcm_open_lconf:
 * no files, no environment, nothing global. The caller deletes *out with snd_config_delete. */
static inline int sluice_alsa_config_from_string(const char *text, snd_config_t **out) {
    snd_config_t *top = NULL;
    snd_input_t *in = NULL;
    int err;
    if ((err = snd_config_top(&top)) < 0) return err;
    if ((err = snd_input_buffer_open(&in, text, -1)) < 0) { snd_config_delete(top); return err; }
    err = snd_config_load(top, in);
    snd_input_close(in);
    if (err < 0) { snd_config_delete(top); return err; }
    *out = top;
    return 0;
}

/* snd_pcm_hw_params_alloca / snd_pcm_sw_params_alloca are macros; these use the _malloc
 * variants so the caller (control thread only) frees them with the matching _free. */
static inline snd_pcm_hw_params_t *sluice_alsa_hw_params_new(void) {
    snd_pcm_hw_params_t *p = NULL;
    return snd_pcm_hw_params_malloc(&p) < 0 ? NULL : p;
}
static inline snd_pcm_sw_params_t *sluice_alsa_sw_params_new(void) {
    snd_pcm_sw_params_t *p = NULL;
    return snd_pcm_sw_params_malloc(&p) < 0 ? NULL : p;
}

/* The address of frame `offset` in an interleaved mmap area (first/step are in bits). [rt] */
static inline void *sluice_alsa_area_frame(const snd_pcm_channel_area_t *area, snd_pcm_uframes_t offset) {
    return (char *)area->addr + (area->first + offset * area->step) / 8;
}

#endif
