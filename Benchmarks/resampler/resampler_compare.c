/*
 * Resampler choice for pulse streams: libspeexdsp against libsoxr, as CompatPulse uses them
 * (interleaved float, stereo, converted in short blocks as a stream arrives).
 *
 * For each library and setting: CPU time per second of audio converted (44.1 kHz -> 48 kHz,
 * 10 ms blocks), and quality as THD+N of a 1 kHz and a 15 kHz sine: the output is fitted
 * (least squares) with a sine and cosine at the exact frequency plus DC, and the residual is
 * everything else. Built and run by `make bench` (Benchmarks/resampler/run.sh).
 */
#define _GNU_SOURCE
#include <math.h>
#include <soxr.h>
#include <speex/speex_resampler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { IN_RATE = 44100, OUT_RATE = 48000, CH = 2, SECONDS = 10, BLOCK = 441 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double last_gain_db;

/* THD+N in dB of channel 0 of `out` (n frames), skipping the first and last 0.5 s. */
static double thdn(const float *out, size_t n, double freq) {
    size_t a = OUT_RATE / 2, b = n > (size_t)OUT_RATE ? n - OUT_RATE / 2 : n;
    /* Normal equations for [sin, cos, 1]. */
    double m[3][3] = {{0}}, v[3] = {0};
    for (size_t i = a; i < b; i++) {
        double w = 2 * M_PI * fmod(freq * i / OUT_RATE, 1.0), f[3] = {sin(w), cos(w), 1}, y = out[i * CH];
        for (int r = 0; r < 3; r++) {
            v[r] += f[r] * y;
            for (int c = 0; c < 3; c++) m[r][c] += f[r] * f[c];
        }
    }
    /* Solve 3x3 by Cramer's rule. */
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    double x[3];
    for (int k = 0; k < 3; k++) {
        double t[3][3];
        memcpy(t, m, sizeof t);
        for (int r = 0; r < 3; r++) t[r][k] = v[r];
        x[k] = (t[0][0] * (t[1][1] * t[2][2] - t[1][2] * t[2][1]) - t[0][1] * (t[1][0] * t[2][2] - t[1][2] * t[2][0]) +
                t[0][2] * (t[1][0] * t[2][1] - t[1][1] * t[2][0])) / det;
    }
    double sig = 0, res = 0;
    for (size_t i = a; i < b; i++) {
        double w = 2 * M_PI * fmod(freq * i / OUT_RATE, 1.0), fit = x[0] * sin(w) + x[1] * cos(w) + x[2];
        sig += fit * fit;
        res += (out[i * CH] - fit) * (out[i * CH] - fit);
    }
    last_gain_db = 10 * log10(sig / (b - a) / 0.125);   /* input power of a 0.5 sine: 0.125 */
    return 10 * log10(res / sig);
}

typedef size_t (*convert_fn)(void *state, const float *in, size_t frames, float *out, size_t cap);

static size_t speex_convert(void *state, const float *in, size_t frames, float *out, size_t cap) {
    spx_uint32_t il = frames, ol = cap;
    speex_resampler_process_interleaved_float(state, in, &il, out, &ol);
    return ol;
}

static size_t soxr_convert(void *state, const float *in, size_t frames, float *out, size_t cap) {
    size_t idone = 0, odone = 0;
    soxr_process(state, in, frames, &idone, out, cap, &odone);
    return odone;
}

static void run(const char *name, void *state, convert_fn fn, double freq, int report_cpu) {
    size_t in_frames = (size_t)IN_RATE * SECONDS, cap = (size_t)OUT_RATE * SECONDS + 4096;
    float *in = malloc(in_frames * CH * sizeof *in), *out = calloc(cap * CH, sizeof *out);
    for (size_t i = 0; i < in_frames; i++)
        for (int c = 0; c < CH; c++) in[i * CH + c] = (float)(0.5 * sin(2 * M_PI * fmod(freq * i / IN_RATE, 1.0)));
    size_t produced = 0;
    double t0 = now();
    for (size_t i = 0; i < in_frames; i += BLOCK)
        produced += fn(state, in + i * CH, BLOCK, out + produced * CH, cap - produced);
    double cpu = now() - t0;
    if (report_cpu)
        printf("%-22s cpu %7.2f ms per second of stereo audio (%.3f %% of a core)  ", name, cpu * 1000 / SECONDS, cpu * 100 / SECONDS);
    double d = thdn(out, produced, freq);
    printf("THD+N @%5.0f Hz %7.1f dB  gain %+6.2f dB", freq, d, last_gain_db);
    printf("\n");
    free(in);
    free(out);
}

int main(void) {
    const double freqs[] = {1000, 15000, 20000};
    for (int f = 0; f < 3; f++) {
        int qualities[] = {1, 4, 10};
        for (int q = 0; q < 3; q++) {
            int err;
            SpeexResamplerState *s = speex_resampler_init(CH, IN_RATE, OUT_RATE, qualities[q], &err);
            speex_resampler_skip_zeros(s);
            char name[64];
            snprintf(name, sizeof name, "speexdsp q%d", qualities[q]);
            run(name, s, speex_convert, freqs[f], 1);
            if (f == 0) printf("%-22s delay %.2f ms\n", name, (speex_resampler_get_output_latency(s)) * 1000.0 / OUT_RATE);
            speex_resampler_destroy(s);
        }
        unsigned long recipes[] = {SOXR_QQ, SOXR_LQ, SOXR_MQ, SOXR_HQ};
        const char *names[] = {"soxr QQ", "soxr LQ", "soxr MQ", "soxr HQ"};
        for (int q = 0; q < 4; q++) {
            soxr_error_t e;
            soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
            soxr_quality_spec_t qs = soxr_quality_spec(recipes[q], 0);
            soxr_t s = soxr_create(IN_RATE, OUT_RATE, CH, &e, &io, &qs, NULL);
            run(names[q], s, soxr_convert, freqs[f], 1);
            if (f == 0) printf("%-22s delay %.2f ms\n", names[q], soxr_delay(s) * 1000.0 / OUT_RATE);
            soxr_delete(s);
        }
    }
    return 0;
}
