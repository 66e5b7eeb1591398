#define _GNU_SOURCE
#include "CSluiceShim.h"
#include <pthread.h>
#include <sched.h>
#include <errno.h>
#include <string.h>
#include <time.h>

int sluice_thread_create(unsigned long *tid, void *(*entry)(void *), void *arg, int priority, int *got_fifo, int *fifo_errno) {
    pthread_attr_t attr;
    pthread_t t;
    int rc;
    *got_fifo = 0; *fifo_errno = 0;
    if (priority > 0) {
        pthread_attr_init(&attr);
        /* Without EXPLICIT_SCHED the policy below is silently ignored. */
        pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
        pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
        struct sched_param sp; memset(&sp, 0, sizeof sp); sp.sched_priority = priority;
        pthread_attr_setschedparam(&attr, &sp);
        rc = pthread_create(&t, &attr, entry, arg);
        pthread_attr_destroy(&attr);
        if (rc == 0) { *got_fifo = 1; *tid = (unsigned long)t; return 0; }
        *fifo_errno = rc;
        if (rc != EPERM && rc != EINVAL) return rc;
    }
    rc = pthread_create(&t, NULL, entry, arg);
    if (rc == 0) *tid = (unsigned long)t;
    return rc;
}

int sluice_thread_join(unsigned long tid) { return pthread_join((pthread_t)tid, NULL); }

int sluice_set_thread_name(const char *name) { return pthread_setname_np(pthread_self(), name); }

int64_t sluice_monotonic_nanos(void) {
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
int sluice_sched_fifo(void) { return SCHED_FIFO; }
int sluice_sched_other(void) { return SCHED_OTHER; }
int sluice_sched_batch(void) { return SCHED_BATCH; }

int sluice_thread_set_policy(unsigned long tid, int policy, int priority) {
    struct sched_param sp; memset(&sp, 0, sizeof sp); sp.sched_priority = priority;
    return pthread_setschedparam(tid ? (pthread_t)tid : pthread_self(), policy, &sp);
}

int sluice_thread_policy(unsigned long tid, int *priority) {
    int policy = 0; struct sched_param sp; memset(&sp, 0, sizeof sp);
    if (pthread_getschedparam(tid ? (pthread_t)tid : pthread_self(), &policy, &sp) != 0) return -1;
    *priority = sp.sched_priority;
    return policy;
}
