/* iotrace: an LD_PRELOAD recorder of the file-system calls a process makes.
 *
 * Loaded with LD_PRELOAD=iotrace.so and MV2_IOTRACE=<trace file>, it interposes the libc
 * functions that change files (open/creat, write/pwrite/writev, copy_file_range/sendfile,
 * lseek, ftruncate/truncate/fallocate, fsync/fdatasync/sync_file_range/syncfs, rename, link, unlink,
 * mkdir/rmdir, dup/fcntl, close) and appends one binary record per call to the trace file.
 * conformance/mv2_conformance/crashes/trace.py reads the records; the record layout is
 * described there.
 *
 * Every interposed call runs under one process-wide mutex, and its record is appended before
 * the mutex is released, so the order of records is an order in which the calls completed.
 * An adapter's reply is a write to a pipe and is recorded too (with its bytes): everything the
 * adapter did before it answered precedes the reply in the trace.
 *
 * What it cannot see: stores into shared writable mappings (recorded only as an "mmap" record
 * so that the trace says such writes may exist), calls made inside libc itself (fopen/fwrite
 * use libc's internal entry points), raw system calls, io_uring, and statically linked
 * programs. The recorder's own I/O uses raw system calls, so it never records itself.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
    OP_OPEN = 1, OP_CLOSE, OP_WRITE, OP_PWRITE, OP_LSEEK, OP_FTRUNCATE, OP_TRUNCATE, OP_FSYNC,
    OP_FDATASYNC, OP_SYNC_RANGE, OP_SYNCFS, OP_SYNC, OP_RENAME, OP_UNLINK, OP_RMDIR, OP_MKDIR,
    OP_DUP, OP_FALLOCATE, OP_MMAP, OP_PIPE_WRITE, OP_LINK
};

#define MAGIC 0x5452564du /* "MVRT" */
#define PIPE_KEEP 65536   /* bytes of a pipe write kept (replies are short lines) */

struct rec {
    uint32_t magic, size;   /* size: the whole record, this header included */
    uint16_t op, flags;     /* flags: 1 = the fd was opened with O_APPEND (informational) */
    int32_t pid;
    uint64_t seq;
    int32_t fd, fd2;        /* fd2: the new fd of dup, the source fd of a copy */
    int64_t a, b;           /* op-specific: offset, length, open flags, mode, whence */
    int64_t ret;
    int32_t err;
    uint32_t plen, p2len, dlen; /* lengths of path, second path and data that follow */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int trace_fd = -2;
static uint64_t seq;
static __thread int busy; /* inside a hook: calls libc makes for us are not recorded */

#define REAL(name) static __typeof__(name) *real_##name; \
    if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

static int tracing(void) {
    if (trace_fd == -2) {
        const char *p = getenv("MV2_IOTRACE");
        trace_fd = p && *p ? (int)syscall(SYS_openat, AT_FDCWD, p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
    }
    return trace_fd >= 0 && !busy;
}

static void emit(uint16_t op, int fd, int fd2, int64_t a, int64_t b, int64_t ret, int err,
                 const char *p, const char *p2, const void *data, size_t dlen) {
    struct rec r;
    size_t plen = p ? strlen(p) : 0, p2len = p2 ? strlen(p2) : 0;
    memset(&r, 0, sizeof r);
    r.magic = MAGIC; r.op = op; r.pid = (int32_t)getpid(); r.seq = ++seq;
    r.fd = fd; r.fd2 = fd2; r.a = a; r.b = b; r.ret = ret; r.err = err;
    r.plen = (uint32_t)plen; r.p2len = (uint32_t)p2len; r.dlen = (uint32_t)dlen;
    r.size = (uint32_t)(sizeof r + plen + p2len + dlen);
    struct iovec iov[4] = {{&r, sizeof r}, {(void *)p, plen}, {(void *)p2, p2len}, {(void *)data, dlen}};
    size_t left = r.size;
    int i = 0;
    while (left > 0 && i < 4) {
        ssize_t n = syscall(SYS_writev, trace_fd, &iov[i], 4 - i);
        if (n <= 0) { if (n < 0 && errno == EINTR) continue; return; }
        left -= (size_t)n;
        while (i < 4 && (size_t)n >= iov[i].iov_len) { n -= (ssize_t)iov[i].iov_len; i++; }
        if (i < 4) { iov[i].iov_base = (char *)iov[i].iov_base + n; iov[i].iov_len -= (size_t)n; }
    }
}

/* An absolute form of (dirfd, path); the final component is kept as given. */
static void absolute(int dirfd, const char *path, char *out, size_t size) {
    char base[4096];
    if (!path) { out[0] = 0; return; }
    if (path[0] == '/') { snprintf(out, size, "%s", path); return; }
    if (dirfd == AT_FDCWD) {
        if (syscall(SYS_getcwd, base, sizeof base) < 0) base[0] = 0;
    } else {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, link, base, sizeof base - 1);
        base[n > 0 ? n : 0] = 0;
    }
    snprintf(out, size, "%s/%s", base, path);
}

static void fd_path(int fd, char *out, size_t size) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, link, out, size - 1);
    out[n > 0 ? n : 0] = 0;
}

static int64_t position(int fd) { return (int64_t)syscall(SYS_lseek, fd, 0, SEEK_CUR); }

/* ---- open ---------------------------------------------------------------------------------- */
static int after_open(int dirfd, const char *path, int flags, int mode, int ret, int err) {
    char p[4096];
    if (ret >= 0) fd_path(ret, p, sizeof p); else absolute(dirfd, path, p, sizeof p);
    emit(OP_OPEN, ret, dirfd, flags, mode, ret, err, p, NULL, NULL, 0);
    return ret;
}

#define OPEN_BODY(realcall, dirfd)                                                   \
    int mode = 0;                                                                    \
    if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, int); va_end(ap); } \
    if (!tracing()) return realcall;                                                 \
    pthread_mutex_lock(&lock); busy = 1;                                             \
    int ret = realcall; int err = errno;                                             \
    after_open(dirfd, path, flags, mode, ret, err);                                  \
    busy = 0; pthread_mutex_unlock(&lock); errno = err; return ret;

int open(const char *path, int flags, ...) { REAL(open); OPEN_BODY(real_open(path, flags, mode), AT_FDCWD) }
int open64(const char *path, int flags, ...) { REAL(open64); OPEN_BODY(real_open64(path, flags, mode), AT_FDCWD) }
int openat(int dirfd, const char *path, int flags, ...) { REAL(openat); OPEN_BODY(real_openat(dirfd, path, flags, mode), dirfd) }
int openat64(int dirfd, const char *path, int flags, ...) { REAL(openat64); OPEN_BODY(real_openat64(dirfd, path, flags, mode), dirfd) }

int __open_2(const char *path, int flags) { return open(path, flags); }
int __open64_2(const char *path, int flags) { return open64(path, flags); }
int __openat_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }
int __openat64_2(int dirfd, const char *path, int flags) { return openat64(dirfd, path, flags); }
int creat(const char *path, mode_t mode) { return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode); }
int creat64(const char *path, mode_t mode) { return open64(path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

int close(int fd) {
    REAL(close);
    if (!tracing() || fd == trace_fd) return fd == trace_fd ? 0 : real_close(fd);
    pthread_mutex_lock(&lock); busy = 1;
    int ret = real_close(fd), err = errno;
    emit(OP_CLOSE, fd, -1, 0, 0, ret, err, NULL, NULL, NULL, 0);
    busy = 0; pthread_mutex_unlock(&lock); errno = err; return ret;
}

/* ---- writes -------------------------------------------------------------------------------- */
/* A write at the fd's position: the offset is found after the call (position - bytes written),
 * which is right for O_APPEND too. A descriptor that cannot seek is a pipe or socket. */
static void after_write(int fd, const struct iovec *iov, int cnt, ssize_t ret, int err) {
    if (ret < 0) { emit(OP_WRITE, fd, -1, -1, 0, ret, err, NULL, NULL, NULL, 0); return; }
    int64_t pos = position(fd);
    size_t keep = (size_t)ret;
    if (pos < 0 && keep > PIPE_KEEP) keep = PIPE_KEEP;
    char *buf = malloc(keep ? keep : 1);
    size_t off = 0;
    for (int i = 0; i < cnt && off < keep; i++) {
        size_t n = iov[i].iov_len < keep - off ? iov[i].iov_len : keep - off;
        memcpy(buf + off, iov[i].iov_base, n); off += n;
    }
    if (pos < 0) emit(OP_PIPE_WRITE, fd, -1, -1, (int64_t)ret, ret, err, NULL, NULL, buf, keep);
    else emit(OP_WRITE, fd, -1, pos - ret, (int64_t)ret, ret, err, NULL, NULL, buf, keep);
    free(buf);
}

static void after_pwrite(int fd, const struct iovec *iov, int cnt, int64_t offset, ssize_t ret, int err) {
    size_t keep = ret > 0 ? (size_t)ret : 0, off = 0;
    char *buf = malloc(keep ? keep : 1);
    for (int i = 0; i < cnt && off < keep; i++) {
        size_t n = iov[i].iov_len < keep - off ? iov[i].iov_len : keep - off;
        memcpy(buf + off, iov[i].iov_base, n); off += n;
    }
    emit(OP_PWRITE, fd, -1, offset, (int64_t)keep, ret, err, NULL, NULL, buf, keep);
    free(buf);
}

#define LOCKED(call, after)                                                  \
    pthread_mutex_lock(&lock); busy = 1;                                     \
    __typeof__(call) ret = call; int err = errno;                            \
    after;                                                                   \
    busy = 0; pthread_mutex_unlock(&lock); errno = err; return ret;

ssize_t write(int fd, const void *buf, size_t n) {
    REAL(write);
    if (!tracing() || fd == trace_fd) return real_write(fd, buf, n);
    struct iovec v = {(void *)buf, n};
    LOCKED(real_write(fd, buf, n), after_write(fd, &v, 1, ret, err))
}
ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    REAL(writev);
    if (!tracing() || fd == trace_fd) return real_writev(fd, iov, cnt);
    LOCKED(real_writev(fd, iov, cnt), after_write(fd, iov, cnt, ret, err))
}
ssize_t pwrite(int fd, const void *buf, size_t n, off_t o) {
    REAL(pwrite);
    if (!tracing()) return real_pwrite(fd, buf, n, o);
    struct iovec v = {(void *)buf, n};
    LOCKED(real_pwrite(fd, buf, n, o), after_pwrite(fd, &v, 1, o, ret, err))
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t o) {
    REAL(pwrite64);
    if (!tracing()) return real_pwrite64(fd, buf, n, o);
    struct iovec v = {(void *)buf, n};
    LOCKED(real_pwrite64(fd, buf, n, o), after_pwrite(fd, &v, 1, o, ret, err))
}
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t o) {
    REAL(pwritev);
    if (!tracing()) return real_pwritev(fd, iov, cnt, o);
    LOCKED(real_pwritev(fd, iov, cnt, o), after_pwrite(fd, iov, cnt, o, ret, err))
}
ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t o) {
    REAL(pwritev64);
    if (!tracing()) return real_pwritev64(fd, iov, cnt, o);
    LOCKED(real_pwritev64(fd, iov, cnt, o), after_pwrite(fd, iov, cnt, o, ret, err))
}
ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t o, int fl) {
    REAL(pwritev2);
    if (!tracing()) return real_pwritev2(fd, iov, cnt, o, fl);
    if (o == -1) { LOCKED(real_pwritev2(fd, iov, cnt, o, fl), after_write(fd, iov, cnt, ret, err)) }
    LOCKED(real_pwritev2(fd, iov, cnt, o, fl), after_pwrite(fd, iov, cnt, o, ret, err))
}

/* Copies inside the kernel: recorded as a positioned write of the bytes read back from the
 * source, so that the trace holds the data like any other write. */
static void after_copy(int in, int64_t in_off, int out, int64_t out_off, ssize_t ret, int err) {
    size_t n = ret > 0 ? (size_t)ret : 0;
    char *buf = malloc(n ? n : 1);
    ssize_t got = n ? (ssize_t)syscall(SYS_pread64, in, buf, n, in_off) : 0;
    if (got < 0) got = 0;
    emit(OP_PWRITE, out, in, out_off, got, ret, err, NULL, NULL, buf, (size_t)got);
    free(buf);
}
ssize_t copy_file_range(int in, off64_t *in_off, int out, off64_t *out_off, size_t n, unsigned fl) {
    REAL(copy_file_range);
    if (!tracing()) return real_copy_file_range(in, in_off, out, out_off, n, fl);
    pthread_mutex_lock(&lock); busy = 1;
    int64_t io = in_off ? *in_off : position(in), oo = out_off ? *out_off : position(out);
    ssize_t ret = real_copy_file_range(in, in_off, out, out_off, n, fl); int err = errno;
    after_copy(in, io, out, oo, ret, err);
    busy = 0; pthread_mutex_unlock(&lock); errno = err; return ret;
}
ssize_t sendfile(int out, int in, off_t *in_off, size_t n) {
    REAL(sendfile);
    if (!tracing()) return real_sendfile(out, in, in_off, n);
    pthread_mutex_lock(&lock); busy = 1;
    int64_t io = in_off ? *in_off : position(in), oo = position(out);
    ssize_t ret = real_sendfile(out, in, in_off, n); int err = errno;
    if (oo >= 0) after_copy(in, io, out, oo, ret, err);
    busy = 0; pthread_mutex_unlock(&lock); errno = err; return ret;
}
ssize_t sendfile64(int out, int in, off64_t *in_off, size_t n) { return sendfile(out, in, (off_t *)in_off, n); }

/* ---- positions, sizes, syncs ---------------------------------------------------------------- */
off_t lseek(int fd, off_t o, int whence) {
    REAL(lseek);
    if (!tracing()) return real_lseek(fd, o, whence);
    LOCKED(real_lseek(fd, o, whence), emit(OP_LSEEK, fd, -1, o, whence, ret, err, NULL, NULL, NULL, 0))
}
off64_t lseek64(int fd, off64_t o, int whence) {
    REAL(lseek64);
    if (!tracing()) return real_lseek64(fd, o, whence);
    LOCKED(real_lseek64(fd, o, whence), emit(OP_LSEEK, fd, -1, o, whence, ret, err, NULL, NULL, NULL, 0))
}
int ftruncate(int fd, off_t n) {
    REAL(ftruncate);
    if (!tracing()) return real_ftruncate(fd, n);
    LOCKED(real_ftruncate(fd, n), emit(OP_FTRUNCATE, fd, -1, n, 0, ret, err, NULL, NULL, NULL, 0))
}
int ftruncate64(int fd, off64_t n) {
    REAL(ftruncate64);
    if (!tracing()) return real_ftruncate64(fd, n);
    LOCKED(real_ftruncate64(fd, n), emit(OP_FTRUNCATE, fd, -1, n, 0, ret, err, NULL, NULL, NULL, 0))
}
int truncate(const char *path, off_t n) {
    REAL(truncate);
    if (!tracing()) return real_truncate(path, n);
    char p[4096]; absolute(AT_FDCWD, path, p, sizeof p);
    LOCKED(real_truncate(path, n), emit(OP_TRUNCATE, -1, -1, n, 0, ret, err, p, NULL, NULL, 0))
}
int truncate64(const char *path, off64_t n) { return truncate(path, (off_t)n); }
int fallocate(int fd, int mode, off_t o, off_t n) {
    REAL(fallocate);
    if (!tracing()) return real_fallocate(fd, mode, o, n);
    LOCKED(real_fallocate(fd, mode, o, n), emit(OP_FALLOCATE, fd, mode, o, n, ret, err, NULL, NULL, NULL, 0))
}
int fallocate64(int fd, int mode, off64_t o, off64_t n) { return fallocate(fd, mode, (off_t)o, (off_t)n); }
int posix_fallocate(int fd, off_t o, off_t n) {
    REAL(posix_fallocate);
    if (!tracing()) return real_posix_fallocate(fd, o, n);
    LOCKED(real_posix_fallocate(fd, o, n), emit(OP_FALLOCATE, fd, 0, o, n, ret == 0 ? 0 : -1, ret, NULL, NULL, NULL, 0))
}
int posix_fallocate64(int fd, off64_t o, off64_t n) { return posix_fallocate(fd, (off_t)o, (off_t)n); }
int fsync(int fd) {
    REAL(fsync);
    if (!tracing()) return real_fsync(fd);
    LOCKED(real_fsync(fd), emit(OP_FSYNC, fd, -1, 0, 0, ret, err, NULL, NULL, NULL, 0))
}
int fdatasync(int fd) {
    REAL(fdatasync);
    if (!tracing()) return real_fdatasync(fd);
    LOCKED(real_fdatasync(fd), emit(OP_FDATASYNC, fd, -1, 0, 0, ret, err, NULL, NULL, NULL, 0))
}
int sync_file_range(int fd, off64_t o, off64_t n, unsigned int fl) {
    REAL(sync_file_range);
    if (!tracing()) return real_sync_file_range(fd, o, n, fl);
    LOCKED(real_sync_file_range(fd, o, n, fl), emit(OP_SYNC_RANGE, fd, (int)fl, o, n, ret, err, NULL, NULL, NULL, 0))
}
int syncfs(int fd) {
    REAL(syncfs);
    if (!tracing()) return real_syncfs(fd);
    LOCKED(real_syncfs(fd), emit(OP_SYNCFS, fd, -1, 0, 0, ret, err, NULL, NULL, NULL, 0))
}
void sync(void) {
    REAL(sync);
    if (!tracing()) { real_sync(); return; }
    pthread_mutex_lock(&lock); busy = 1;
    real_sync(); emit(OP_SYNC, -1, -1, 0, 0, 0, 0, NULL, NULL, NULL, 0);
    busy = 0; pthread_mutex_unlock(&lock);
}

/* ---- names --------------------------------------------------------------------------------- */
static int do_rename(int ofd, const char *o, int nfd, const char *n, unsigned fl, int ret, int err) {
    char a[4096], b[4096];
    absolute(ofd, o, a, sizeof a); absolute(nfd, n, b, sizeof b);
    emit(OP_RENAME, -1, -1, fl, 0, ret, err, a, b, NULL, 0);
    return ret;
}
int rename(const char *o, const char *n) {
    REAL(rename);
    if (!tracing()) return real_rename(o, n);
    LOCKED(real_rename(o, n), do_rename(AT_FDCWD, o, AT_FDCWD, n, 0, ret, err))
}
int renameat(int ofd, const char *o, int nfd, const char *n) {
    REAL(renameat);
    if (!tracing()) return real_renameat(ofd, o, nfd, n);
    LOCKED(real_renameat(ofd, o, nfd, n), do_rename(ofd, o, nfd, n, 0, ret, err))
}
int renameat2(int ofd, const char *o, int nfd, const char *n, unsigned int fl) {
    REAL(renameat2);
    if (!tracing()) return real_renameat2(ofd, o, nfd, n, fl);
    LOCKED(real_renameat2(ofd, o, nfd, n, fl), do_rename(ofd, o, nfd, n, fl, ret, err))
}
static int do_link(int ofd, const char *o, int nfd, const char *n, int ret, int err) {
    char a[4096], b[4096];
    absolute(ofd, o, a, sizeof a); absolute(nfd, n, b, sizeof b);
    emit(OP_LINK, -1, -1, 0, 0, ret, err, a, b, NULL, 0);
    return ret;
}
int link(const char *o, const char *n) {
    REAL(link);
    if (!tracing()) return real_link(o, n);
    LOCKED(real_link(o, n), do_link(AT_FDCWD, o, AT_FDCWD, n, ret, err))
}
int linkat(int ofd, const char *o, int nfd, const char *n, int fl) {
    REAL(linkat);
    if (!tracing()) return real_linkat(ofd, o, nfd, n, fl);
    LOCKED(real_linkat(ofd, o, nfd, n, fl), do_link(ofd, o, nfd, n, ret, err))
}
static void name_op(uint16_t op, int dirfd, const char *path, int64_t a, int ret, int err) {
    char p[4096]; absolute(dirfd, path, p, sizeof p);
    emit(op, -1, dirfd, a, 0, ret, err, p, NULL, NULL, 0);
}
int unlink(const char *path) {
    REAL(unlink);
    if (!tracing()) return real_unlink(path);
    LOCKED(real_unlink(path), name_op(OP_UNLINK, AT_FDCWD, path, 0, ret, err))
}
int unlinkat(int dirfd, const char *path, int fl) {
    REAL(unlinkat);
    if (!tracing()) return real_unlinkat(dirfd, path, fl);
    LOCKED(real_unlinkat(dirfd, path, fl), name_op((fl & AT_REMOVEDIR) ? OP_RMDIR : OP_UNLINK, dirfd, path, fl, ret, err))
}
int rmdir(const char *path) {
    REAL(rmdir);
    if (!tracing()) return real_rmdir(path);
    LOCKED(real_rmdir(path), name_op(OP_RMDIR, AT_FDCWD, path, 0, ret, err))
}
int mkdir(const char *path, mode_t mode) {
    REAL(mkdir);
    if (!tracing()) return real_mkdir(path, mode);
    LOCKED(real_mkdir(path, mode), name_op(OP_MKDIR, AT_FDCWD, path, mode, ret, err))
}
int mkdirat(int dirfd, const char *path, mode_t mode) {
    REAL(mkdirat);
    if (!tracing()) return real_mkdirat(dirfd, path, mode);
    LOCKED(real_mkdirat(dirfd, path, mode), name_op(OP_MKDIR, dirfd, path, mode, ret, err))
}

/* ---- descriptors --------------------------------------------------------------------------- */
int dup(int fd) {
    REAL(dup);
    if (!tracing()) return real_dup(fd);
    LOCKED(real_dup(fd), emit(OP_DUP, fd, ret, 0, 0, ret, err, NULL, NULL, NULL, 0))
}
int dup2(int fd, int nfd) {
    REAL(dup2);
    if (!tracing()) return real_dup2(fd, nfd);
    LOCKED(real_dup2(fd, nfd), emit(OP_DUP, fd, ret, 0, 0, ret, err, NULL, NULL, NULL, 0))
}
int dup3(int fd, int nfd, int fl) {
    REAL(dup3);
    if (!tracing()) return real_dup3(fd, nfd, fl);
    LOCKED(real_dup3(fd, nfd, fl), emit(OP_DUP, fd, ret, 0, 0, ret, err, NULL, NULL, NULL, 0))
}
int fcntl(int fd, int cmd, ...) {
    REAL(fcntl);
    va_list ap; va_start(ap, cmd); void *arg = va_arg(ap, void *); va_end(ap);
    if (!tracing() || (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)) return real_fcntl(fd, cmd, arg);
    LOCKED(real_fcntl(fd, cmd, arg), emit(OP_DUP, fd, ret, 0, 0, ret, err, NULL, NULL, NULL, 0))
}
int fcntl64(int fd, int cmd, ...) {
    va_list ap; va_start(ap, cmd); void *arg = va_arg(ap, void *); va_end(ap);
    return fcntl(fd, cmd, arg);
}

/* ---- mappings: recorded, not followed -------------------------------------------------------- */
void *mmap(void *addr, size_t len, int prot, int fl, int fd, off_t o) {
    REAL(mmap);
    if (!tracing() || fd < 0 || !(prot & PROT_WRITE) || !(fl & MAP_SHARED)) return real_mmap(addr, len, prot, fl, fd, o);
    LOCKED(real_mmap(addr, len, prot, fl, fd, o), emit(OP_MMAP, fd, -1, o, (int64_t)len, ret == MAP_FAILED ? -1 : 0, err, NULL, NULL, NULL, 0))
}
void *mmap64(void *addr, size_t len, int prot, int fl, int fd, off64_t o) { return mmap(addr, len, prot, fl, fd, (off_t)o); }
