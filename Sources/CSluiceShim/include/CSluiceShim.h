/* C one-liners Swift cannot call: GNU-only functions, CMSG_* macros, and headers
 * the Swift Glibc module leaves out. No logic lives here. GNU-only includes stay in
 * the .c files (see swift-systems-notes §1: re-parsing system headers with
 * _GNU_SOURCE in a public header breaks glibc types in Swift). */
#ifndef CSLUICESHIM_H
#define CSLUICESHIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>

#define SLUICE_MFD_CLOEXEC         0x0001
#define SLUICE_MFD_ALLOW_SEALING   0x0002
#define SLUICE_MFD_NOEXEC_SEAL     0x0008   /* Linux >= 6.3; not in Debian 12 headers */
#define SLUICE_F_SEAL_SEAL         0x0001
#define SLUICE_F_SEAL_SHRINK       0x0002
#define SLUICE_F_SEAL_GROW         0x0004
#define SLUICE_F_SEAL_WRITE        0x0008
#define SLUICE_F_SEAL_FUTURE_WRITE 0x0010
#define SLUICE_F_SEAL_EXEC         0x0020

/* memfd.c */
int sluice_memfd_create(const char *name, unsigned int flags);
int sluice_add_seals(int fd, int seals);            /* fcntl(F_ADD_SEALS) */
int sluice_get_seals(int fd);                       /* fcntl(F_GET_SEALS) */

/* socket.c */
ssize_t sluice_send_fds(int sock, const int *fds, int nfds, const void *data, size_t len);
ssize_t sluice_recv_fds(int sock, int *fds, int maxfds, int *nfds_out, void *buf, size_t len, int *truncated);
int sluice_peercred(int sock, pid_t *pid, uid_t *uid, gid_t *gid);
int sluice_accept4(int sock);                        /* accept4(SOCK_CLOEXEC|SOCK_NONBLOCK) */
int sluice_pipe2(int fds[2]);                        /* pipe2(O_CLOEXEC) */

/* sched.c */
/* Creates a thread running entry(arg), SCHED_FIFO at `priority` when priority > 0 and permitted.
 * Returns 0 and sets *got_fifo to 1 (FIFO) or 0 (fallback to SCHED_OTHER), or an errno value. */
int sluice_thread_create(unsigned long *tid, void *(*entry)(void *), void *arg, int priority, int *got_fifo, int *fifo_errno);
int sluice_thread_join(unsigned long tid);
int sluice_set_thread_name(const char *name);
int64_t sluice_monotonic_nanos(void);
int sluice_sched_fifo(void);
int sluice_sched_other(void);
int sluice_sched_batch(void);
/* Sets the policy of thread `tid` (a pthread_t), or of the calling thread when tid is 0:
 * SCHED_FIFO at `priority`, or SCHED_OTHER/SCHED_BATCH (priority 0; the nice value is kept).
 * Returns 0 or an errno value. */
int sluice_thread_set_policy(unsigned long tid, int policy, int priority);
/* The policy of thread `tid` (0: the calling thread), read from the kernel; -1 on error. */
int sluice_thread_policy(unsigned long tid, int *priority);

#endif
