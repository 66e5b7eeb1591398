/*
 * sluicefake: a clocked fake sound card for Sluice's ALSA tests, as an ALSA ioplug plugin.
 *
 * There is no sound card (and no snd-aloop) on the test machines, and ALSA's null/file PCMs do
 * not pace at all. This PCM consumes (playback) or produces (capture) frames by its own clock,
 * so avail, delay and xruns behave like a real card's:
 *
 *   position(t) = (t - start) * virtual_speed * rate * (1 + ppm / 1e6)      [frames]
 *
 * where t is CLOCK_MONOTONIC. `ppm` is the card's clock error against the system clock;
 * `virtual_speed` > 1 makes the card's clock run that many times faster than real time, so
 * a minute of device time passes in seconds (the code under test must scale its own clock by
 * the same factor). A playback underrun (the card reaching the application pointer) and a
 * capture overrun (the card more than a buffer ahead) are reported as xruns, as the kernel does.
 *
 * Config block (every key optional):
 *   pcm.card { type sluicefake  rate 48000  channels 2  ppm 300  virtual_speed 20
 *              format "FLOAT_LE"   # offer only this format (default: FLOAT_LE, S32_LE, S16_LE)
 *              mmap false          # offer RW access only (default: mmap and RW)
 *              xrun_file "/tmp/x"  # when this file appears: one xrun, and the file is removed
 *              vanish_file "/tmp/v" }  # when this file appears: every call fails with -ENODEV
 * Loaded with `pcm_type.sluicefake { lib "/abs/path/libasound_module_pcm_sluicefake.so" }`.
 *
 * Capture produces a ramp: sample n of channel c is ((n + 1000 c) mod 4096 - 2048) / 2048,
 * so a test can check that no frame was lost or repeated.
 *
 * Written for Sluice from the ioplug API in <alsa/pcm_ioplug.h>.
 */
#define _GNU_SOURCE
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    snd_pcm_ioplug_t io;
    unsigned int rate;
    unsigned int channels;
    double ppm;
    double speed;
    int format_only;            /* -1: the default list; else one snd_pcm_format_t */
    int allow_mmap;
    char *xrun_file;
    char *vanish_file;
    int timer_fd;               /* the poll descriptor: ticks once per period of device time */
    int running;
    int vanished;
    int64_t start_ns;
    int64_t last_check_ns;
    snd_pcm_uframes_t last_position;   /* reported while stopped, so ioplug sees no jump */
    snd_pcm_uframes_t boundary;
} fake_t;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Frames the card has played or recorded since start, by its own clock. */
static snd_pcm_uframes_t card_position(const fake_t *f) {
    if (!f->running) return 0;
    double seconds = (double)(now_ns() - f->start_ns) * 1e-9 * f->speed;
    return (snd_pcm_uframes_t)(seconds * (double)f->rate * (1.0 + f->ppm * 1e-6));
}

/* Checks the control files, at most once per millisecond of real time. Returns -ENODEV once
 * the card has vanished, -EPIPE for an injected xrun (once per appearance of the file, and
 * only while running), 0 else. */
static int check_files(fake_t *f) {
    if (f->vanished) return -ENODEV;
    int64_t now = now_ns();
    if (now - f->last_check_ns < 1000000) return 0;
    f->last_check_ns = now;
    if (f->vanish_file && access(f->vanish_file, F_OK) == 0) {
        f->vanished = 1;
        f->running = 0;
        return -ENODEV;
    }
    if (f->running && f->xrun_file && access(f->xrun_file, F_OK) == 0) {
        unlink(f->xrun_file);
        return -EPIPE;
    }
    return 0;
}

static void arm_timer(fake_t *f, int on) {
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (on && f->io.period_size > 0) {
        double period_ns = (double)f->io.period_size * 1e9 / ((double)f->rate * f->speed);
        if (period_ns < 10000) period_ns = 10000;
        its.it_interval.tv_sec = (time_t)(period_ns / 1e9);
        its.it_interval.tv_nsec = (long)(period_ns - (double)its.it_interval.tv_sec * 1e9);
        its.it_value = its.it_interval;
    }
    timerfd_settime(f->timer_fd, 0, &its, NULL);
}

static int fake_start(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;
    if (f->vanished) return -ENODEV;
    f->start_ns = now_ns();
    f->running = 1;
    arm_timer(f, 1);
    return 0;
}

static int fake_stop(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;
    f->running = 0;
    arm_timer(f, 0);
    return 0;
}

static snd_pcm_sframes_t fake_pointer(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;
    int err = check_files(f);
    if (err < 0) {
        f->running = 0;
        return err;
    }
    if (!f->running) return (snd_pcm_sframes_t)f->last_position;
    snd_pcm_uframes_t pos = card_position(f);
    snd_pcm_uframes_t appl = io->appl_ptr;
    if (io->stream == SND_PCM_STREAM_PLAYBACK) {
        if (f->running && pos > appl) {       /* played past what was written: underrun */
            f->running = 0;
            return -EPIPE;
        }
    } else if (f->running && pos > appl + io->buffer_size) {   /* overwrote unread frames */
        f->running = 0;
        return -EPIPE;
    }
    if (f->boundary) pos %= f->boundary;
    f->last_position = pos;
    return (snd_pcm_sframes_t)pos;
}

static double ramp(snd_pcm_uframes_t n, unsigned int c) {
    return (double)((long)((n + 1000 * c) % 4096) - 2048) / 2048.0;
}

static snd_pcm_sframes_t fake_transfer(snd_pcm_ioplug_t *io, const snd_pcm_channel_area_t *areas,
                                       snd_pcm_uframes_t offset, snd_pcm_uframes_t size) {
    fake_t *f = io->private_data;
    if (f->vanished) return -ENODEV;
    if (io->stream == SND_PCM_STREAM_PLAYBACK) return (snd_pcm_sframes_t)size;   /* the card plays it */
    snd_pcm_uframes_t first = io->appl_ptr;
    for (unsigned int c = 0; c < io->channels; c++) {
        const snd_pcm_channel_area_t *a = &areas[c];
        for (snd_pcm_uframes_t i = 0; i < size; i++) {
            char *p = (char *)a->addr + (a->first + (offset + i) * a->step) / 8;
            double v = ramp(first + i, c);
            switch (io->format) {
            case SND_PCM_FORMAT_FLOAT_LE: { float x = (float)v; memcpy(p, &x, 4); break; }
            case SND_PCM_FORMAT_S32_LE: { int32_t x = (int32_t)(v * 2147483648.0); memcpy(p, &x, 4); break; }
            case SND_PCM_FORMAT_S16_LE: { int16_t x = (int16_t)(v * 32768.0); memcpy(p, &x, 2); break; }
            default: break;
            }
        }
    }
    return (snd_pcm_sframes_t)size;
}

static int fake_prepare(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;
    if (f->vanished || check_files(f) == -ENODEV) return -ENODEV;
    f->running = 0;
    f->last_position = 0;
    arm_timer(f, 0);
    return 0;
}

static int fake_sw_params(snd_pcm_ioplug_t *io, snd_pcm_sw_params_t *params) {
    fake_t *f = io->private_data;
    snd_pcm_sw_params_get_boundary(params, &f->boundary);
    return 0;
}

static int fake_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfd, unsigned int nfds,
                             unsigned short *revents) {
    fake_t *f = io->private_data;
    uint64_t ticks;
    (void)pfd; (void)nfds;
    if (read(f->timer_fd, &ticks, sizeof ticks) < 0) { /* nothing pending: fine */ }
    snd_pcm_sframes_t avail = snd_pcm_avail_update(io->pcm);
    if (avail < 0) *revents = POLLERR;
    else if ((snd_pcm_uframes_t)avail >= io->period_size)
        *revents = io->stream == SND_PCM_STREAM_PLAYBACK ? POLLOUT : POLLIN;
    else *revents = 0;
    return 0;
}

static int fake_close(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;
    close(f->timer_fd);
    free(f->xrun_file);
    free(f->vanish_file);
    free(f);
    return 0;
}

static const snd_pcm_ioplug_callback_t fake_callbacks = {
    .start = fake_start,
    .stop = fake_stop,
    .pointer = fake_pointer,
    .transfer = fake_transfer,
    .prepare = fake_prepare,
    .sw_params = fake_sw_params,
    .poll_revents = fake_poll_revents,
    .close = fake_close,
};

static int set_constraints(fake_t *f) {
    snd_pcm_ioplug_t *io = &f->io;
    unsigned int access_both[] = { SND_PCM_ACCESS_MMAP_INTERLEAVED, SND_PCM_ACCESS_RW_INTERLEAVED };
    unsigned int access_rw[] = { SND_PCM_ACCESS_RW_INTERLEAVED };
    unsigned int formats[] = { SND_PCM_FORMAT_FLOAT_LE, SND_PCM_FORMAT_S32_LE, SND_PCM_FORMAT_S16_LE };
    unsigned int one_format[1];
    int err;
    if (f->allow_mmap)
        err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS, 2, access_both);
    else
        err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS, 1, access_rw);
    if (err < 0) return err;
    if (f->format_only >= 0) {
        one_format[0] = (unsigned int)f->format_only;
        err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, 1, one_format);
    } else {
        err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, 3, formats);
    }
    if (err < 0) return err;
    if ((err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_CHANNELS, f->channels, f->channels)) < 0) return err;
    if ((err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_RATE, f->rate, f->rate)) < 0) return err;
    if ((err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, 64, 1 << 20)) < 0) return err;
    if ((err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIODS, 2, 64)) < 0) return err;
    return snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_BUFFER_BYTES, 128, 4 << 20);
}

SND_PCM_PLUGIN_DEFINE_FUNC(sluicefake) {
    snd_config_iterator_t i, next;
    fake_t *f;
    int err;
    (void)root;

    f = calloc(1, sizeof *f);
    if (!f) return -ENOMEM;
    f->rate = 48000;
    f->channels = 2;
    f->speed = 1.0;
    f->format_only = -1;
    f->allow_mmap = 1;

    snd_config_for_each(i, next, conf) {
        snd_config_t *n = snd_config_iterator_entry(i);
        const char *id;
        long lval;
        double dval;
        const char *sval;
        if (snd_config_get_id(n, &id) < 0) continue;
        if (!strcmp(id, "comment") || !strcmp(id, "type") || !strcmp(id, "hint")) continue;
        if (!strcmp(id, "rate") && snd_config_get_integer(n, &lval) == 0 && lval > 0) { f->rate = (unsigned int)lval; continue; }
        if (!strcmp(id, "channels") && snd_config_get_integer(n, &lval) == 0 && lval > 0) { f->channels = (unsigned int)lval; continue; }
        if (!strcmp(id, "ppm") && snd_config_get_ireal(n, &dval) == 0) { f->ppm = dval; continue; }
        if (!strcmp(id, "virtual_speed") && snd_config_get_ireal(n, &dval) == 0 && dval > 0) { f->speed = dval; continue; }
        if (!strcmp(id, "mmap")) {
            err = snd_config_get_bool(n);
            if (err < 0) goto bad;
            f->allow_mmap = err;
            continue;
        }
        if (!strcmp(id, "format") && snd_config_get_string(n, &sval) == 0) {
            snd_pcm_format_t fmt = snd_pcm_format_value(sval);
            if (fmt == SND_PCM_FORMAT_UNKNOWN) goto bad;
            f->format_only = (int)fmt;
            continue;
        }
        if (!strcmp(id, "xrun_file") && snd_config_get_string(n, &sval) == 0) { f->xrun_file = strdup(sval); continue; }
        if (!strcmp(id, "vanish_file") && snd_config_get_string(n, &sval) == 0) { f->vanish_file = strdup(sval); continue; }
    bad:
        SNDERR("sluicefake: bad or unknown field %s", id);
        free(f->xrun_file);
        free(f->vanish_file);
        free(f);
        return -EINVAL;
    }

    f->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (f->timer_fd < 0) {
        err = -errno;
        free(f->xrun_file);
        free(f->vanish_file);
        free(f);
        return err;
    }
    f->io.version = SND_PCM_IOPLUG_VERSION;
    f->io.name = "Sluice clocked fake card";
    f->io.callback = &fake_callbacks;
    f->io.private_data = f;
    f->io.poll_fd = f->timer_fd;
    f->io.poll_events = POLLIN;
    f->io.mmap_rw = 0;
    f->io.flags = SND_PCM_IOPLUG_FLAG_MONOTONIC | SND_PCM_IOPLUG_FLAG_BOUNDARY_WA;

    err = snd_pcm_ioplug_create(&f->io, name, stream, mode);
    if (err < 0) {
        close(f->timer_fd);
        free(f->xrun_file);
        free(f->vanish_file);
        free(f);
        return err;
    }
    if ((err = set_constraints(f)) < 0) {
        snd_pcm_ioplug_delete(&f->io);   /* calls fake_close, which frees f */
        return err;
    }
    *pcmp = f->io.pcm;
    return 0;
}

SND_PCM_PLUGIN_SYMBOL(sluicefake);

/*
 * The fake card's control device, as an ALSA external control plugin (<alsa/control_external.h>):
 * read-only boolean elements named in the config, so tests can give a card jacks and switches.
 *
 *   ctl.fakectl { type sluicefake  elements "Headphone Jack=1;Headphone Playback Switch=1;Mic Jack=0"
 *                 state_file "/tmp/x/jacks" }   # optional: "Name=value;…" overriding the values
 * Loaded with `ctl_type.sluicefake { lib "/abs/path/libasound_module_pcm_sluicefake.so" }`.
 * Names ending in " Jack" are CARD elements (as the kernel's jack controls are), others MIXER.
 * With a state file, values are read from it on every read, and writing it (in its directory,
 * watched with inotify) makes the control device report a value change, as plugging a jack does.
 */
#include <alsa/control_external.h>
#include <sys/inotify.h>
#include <libgen.h>

#define FAKE_CTL_MAX 32

typedef struct {
    snd_ctl_ext_t ext;
    int count;
    char *names[FAKE_CTL_MAX];
    long values[FAKE_CTL_MAX];
    char *state_file;
    int inotify;
    int subscribed;
} fake_ctl_t;

/* Applies "Name=value;Name=value" to the elements it names. */
static void fake_ctl_apply(fake_ctl_t *c, const char *spec) {
    char *copy = strdup(spec), *save = NULL;
    for (char *item = strtok_r(copy, ";\n", &save); item; item = strtok_r(NULL, ";\n", &save)) {
        char *eq = strrchr(item, '=');
        if (!eq) continue;
        *eq = 0;
        for (int i = 0; i < c->count; i++) if (strcmp(c->names[i], item) == 0) c->values[i] = atol(eq + 1) != 0;
    }
    free(copy);
}

static void fake_ctl_reload(fake_ctl_t *c) {
    if (!c->state_file) return;
    FILE *f = fopen(c->state_file, "r");
    if (!f) return;
    char buf[2048];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    fake_ctl_apply(c, buf);
}

static int fake_ctl_is_jack(const char *name) {
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, " Jack") == 0;
}

static void fake_ctl_close(snd_ctl_ext_t *ext) {
    fake_ctl_t *c = ext->private_data;
    for (int i = 0; i < c->count; i++) free(c->names[i]);
    if (c->inotify >= 0) close(c->inotify);
    free(c->state_file);
    free(c);
}

static int fake_ctl_elem_count(snd_ctl_ext_t *ext) { return ((fake_ctl_t *)ext->private_data)->count; }

static int fake_ctl_elem_list(snd_ctl_ext_t *ext, unsigned int offset, snd_ctl_elem_id_t *id) {
    fake_ctl_t *c = ext->private_data;
    if ((int)offset >= c->count) return -EINVAL;
    snd_ctl_elem_id_set_interface(id, fake_ctl_is_jack(c->names[offset]) ? SND_CTL_ELEM_IFACE_CARD : SND_CTL_ELEM_IFACE_MIXER);
    snd_ctl_elem_id_set_name(id, c->names[offset]);
    return 0;
}

static snd_ctl_ext_key_t fake_ctl_find_elem(snd_ctl_ext_t *ext, const snd_ctl_elem_id_t *id) {
    fake_ctl_t *c = ext->private_data;
    const char *name = snd_ctl_elem_id_get_name(id);
    for (int i = 0; i < c->count; i++) if (strcmp(c->names[i], name) == 0) return (snd_ctl_ext_key_t)i;
    return SND_CTL_EXT_KEY_NOT_FOUND;
}

static int fake_ctl_get_attribute(snd_ctl_ext_t *ext, snd_ctl_ext_key_t key, int *type, unsigned int *acc, unsigned int *count) {
    (void)ext; (void)key;
    *type = SND_CTL_ELEM_TYPE_BOOLEAN;
    *acc = SND_CTL_EXT_ACCESS_READ;
    *count = 1;
    return 0;
}

static int fake_ctl_get_integer_info(snd_ctl_ext_t *ext, snd_ctl_ext_key_t key, long *imin, long *imax, long *istep) {
    (void)ext; (void)key;
    *imin = 0; *imax = 1; *istep = 1;
    return 0;
}

static int fake_ctl_read_integer(snd_ctl_ext_t *ext, snd_ctl_ext_key_t key, long *value) {
    fake_ctl_t *c = ext->private_data;
    if ((int)key >= c->count) return -EINVAL;
    fake_ctl_reload(c);
    *value = c->values[key];
    return 0;
}

static void fake_ctl_subscribe_events(snd_ctl_ext_t *ext, int subscribe) {
    ((fake_ctl_t *)ext->private_data)->subscribed = subscribe;
}

/* One value-change event (for the first element) per burst of changes to the state file. */
static int fake_ctl_read_event(snd_ctl_ext_t *ext, snd_ctl_elem_id_t *id, unsigned int *event_mask) {
    fake_ctl_t *c = ext->private_data;
    char buf[4096];
    int changed = 0;
    if (c->inotify < 0) return -EAGAIN;
    while (read(c->inotify, buf, sizeof buf) > 0) changed = 1;
    if (!changed || !c->subscribed || c->count == 0) return -EAGAIN;
    snd_ctl_elem_id_set_interface(id, fake_ctl_is_jack(c->names[0]) ? SND_CTL_ELEM_IFACE_CARD : SND_CTL_ELEM_IFACE_MIXER);
    snd_ctl_elem_id_set_name(id, c->names[0]);
    *event_mask = SND_CTL_EVENT_MASK_VALUE;
    return 1;
}

static const snd_ctl_ext_callback_t fake_ctl_callback = {
    .close = fake_ctl_close,
    .elem_count = fake_ctl_elem_count,
    .elem_list = fake_ctl_elem_list,
    .find_elem = fake_ctl_find_elem,
    .get_attribute = fake_ctl_get_attribute,
    .get_integer_info = fake_ctl_get_integer_info,
    .read_integer = fake_ctl_read_integer,
    .subscribe_events = fake_ctl_subscribe_events,
    .read_event = fake_ctl_read_event,
};

SND_CTL_PLUGIN_DEFINE_FUNC(sluicefake) {
    snd_config_iterator_t i, next;
    const char *spec = "", *state_file = NULL;
    (void)root;
    snd_config_for_each(i, next, conf) {
        snd_config_t *n = snd_config_iterator_entry(i);
        const char *id;
        if (snd_config_get_id(n, &id) < 0) continue;
        if (!strcmp(id, "comment") || !strcmp(id, "type") || !strcmp(id, "hint")) continue;
        if (!strcmp(id, "elements") && snd_config_get_string(n, &spec) == 0) continue;
        if (!strcmp(id, "state_file") && snd_config_get_string(n, &state_file) == 0) continue;
        SNDERR("sluicefake ctl: unknown field %s", id);
        return -EINVAL;
    }
    fake_ctl_t *c = calloc(1, sizeof *c);
    if (!c) return -ENOMEM;
    /* "Name=value;Name=value" */
    char *copy = strdup(spec), *save = NULL;
    for (char *item = strtok_r(copy, ";", &save); item && c->count < FAKE_CTL_MAX; item = strtok_r(NULL, ";", &save)) {
        char *eq = strrchr(item, '=');
        long v = 1;
        if (eq) { *eq = 0; v = atol(eq + 1) != 0; }
        c->names[c->count] = strdup(item);
        c->values[c->count] = v;
        c->count++;
    }
    free(copy);
    c->inotify = -1;
    if (state_file) {
        char *dir = strdup(state_file);
        c->state_file = strdup(state_file);
        c->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (c->inotify >= 0) inotify_add_watch(c->inotify, dirname(dir), IN_CLOSE_WRITE | IN_MOVED_TO);
        free(dir);
        fake_ctl_reload(c);
    }
    c->ext.version = SND_CTL_EXT_VERSION;
    c->ext.poll_fd = c->inotify;
    c->ext.card_idx = 0;
    strcpy(c->ext.id, "SluiceFake");
    strcpy(c->ext.driver, "sluicefake");
    strcpy(c->ext.name, "Sluice Fake Card");
    strcpy(c->ext.longname, "Sluice clocked fake card (test fixture)");
    strcpy(c->ext.mixername, "Sluice Fake Mixer");
    c->ext.callback = &fake_ctl_callback;
    c->ext.private_data = c;
    int err = snd_ctl_ext_create(&c->ext, name, mode);
    if (err < 0) {
        fake_ctl_close(&c->ext);
        return err;
    }
    *handlep = c->ext.handle;
    return 0;
}

SND_CTL_PLUGIN_SYMBOL(sluicefake);
