#define _GNU_SOURCE
#include "CSluiceShim.h"
#include <sys/socket.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>

#define SLUICE_MAX_FDS 16

ssize_t sluice_send_fds(int sock, const int *fds, int nfds, const void *data, size_t len) {
    if (nfds < 0 || nfds > SLUICE_MAX_FDS) { errno = EINVAL; return -1; }
    char dummy = 0; /* stream sockets need >= 1 byte of data alongside a cmsg */
    struct iovec iov = { .iov_base = len ? (void *)data : &dummy, .iov_len = len ? len : 1 };
    union { char buf[CMSG_SPACE(sizeof(int) * SLUICE_MAX_FDS)]; struct cmsghdr align; } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds > 0) {
        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t r;
    do { r = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT); } while (r < 0 && errno == EINTR);
    return r;
}

ssize_t sluice_recv_fds(int sock, int *fds, int maxfds, int *nfds_out, void *buf, size_t len, int *truncated) {
    union { char buf[CMSG_SPACE(sizeof(int) * SLUICE_MAX_FDS)]; struct cmsghdr align; } u;
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    *nfds_out = 0; *truncated = 0;
    ssize_t r;
    do { r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT); } while (r < 0 && errno == EINTR);
    if (r < 0) return r;
    if (msg.msg_flags & MSG_CTRUNC) *truncated = 1; /* the kernel dropped fds: a protocol error */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *p = (int *)CMSG_DATA(c);
        for (int i = 0; i < n; i++) {
            if (*nfds_out < maxfds) fds[(*nfds_out)++] = p[i];
            else { close(p[i]); *truncated = 1; }
        }
    }
    return r;
}

int sluice_peercred(int sock, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct ucred cr; socklen_t l = sizeof cr;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0) return -1;
    *pid = cr.pid; *uid = cr.uid; *gid = cr.gid;
    return 0;
}

int sluice_accept4(int sock) { return accept4(sock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK); }
int sluice_pipe2(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
