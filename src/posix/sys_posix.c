/* System-call wrappers: EINTR retry, and fault injection in test builds. */
#define _GNU_SOURCE
#include "sys_posix.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Runs `call` until it does not fail with EINTR; an injected fault stands
 * in for the call's own failure. */
#define RETRY(op, call)                                                        \
    do {                                                                       \
        int injected_ = MMF__FAULT(op);                                        \
        if (injected_) {                                                       \
            errno = injected_;                                                 \
            r = -1;                                                            \
        } else {                                                               \
            r = (call);                                                        \
        }                                                                      \
    } while (r == -1 && errno == EINTR)

int mmf__sys_open(const char *path, int flags, mode_t mode)
{
    int r;
    RETRY(MMF__FAULT_OPEN, open(path, flags, mode));
    return r;
}

int mmf__sys_fstat(int fd, void *st)
{
    int r;
    RETRY(MMF__FAULT_FSTAT, fstat(fd, (struct stat *)st));
    return r;
}

int mmf__sys_fallocate(int fd, int mode, off_t off, off_t len)
{
    int r;
#ifdef __linux__
    RETRY(MMF__FAULT_FALLOCATE, fallocate(fd, mode, off, len));
#else
    (void)fd, (void)mode, (void)off, (void)len;
    errno = EOPNOTSUPP;
    r = -1;
#endif
    return r;
}

int mmf__sys_ftruncate(int fd, off_t len)
{
    int r;
    RETRY(MMF__FAULT_FTRUNCATE, ftruncate(fd, len));
    return r;
}

void *mmf__sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
                    off_t off)
{
    int injected = MMF__FAULT(MMF__FAULT_MMAP);
    if (injected) {
        errno = injected;
        return MAP_FAILED;
    }
    return mmap(addr, len, prot, flags, fd, off);
}

int mmf__sys_msync(void *addr, size_t len, int flags)
{
    int r;
    RETRY(MMF__FAULT_MSYNC, msync(addr, len, flags));
    return r;
}

int mmf__sys_fsync(int fd)
{
    int r;
    RETRY(MMF__FAULT_FSYNC, fsync(fd));
    return r;
}

int mmf__sys_sync_range(int fd, off_t off, off_t len, unsigned flags)
{
    int r;
#ifdef __linux__
    RETRY(MMF__FAULT_SYNC_RANGE, sync_file_range(fd, off, len, flags));
#else
    (void)off, (void)len, (void)flags;
    RETRY(MMF__FAULT_SYNC_RANGE, fsync(fd));
#endif
    return r;
}

int mmf__sys_madvise(void *addr, size_t len, int advice)
{
    int r;
    RETRY(MMF__FAULT_MADVISE, madvise(addr, len, advice));
    return r;
}

int mmf__sys_memfd(const char *name, unsigned flags)
{
    int r;
#ifdef __linux__
    RETRY(MMF__FAULT_MEMFD, memfd_create(name, flags));
#else
    (void)name, (void)flags;
    errno = ENOSYS;
    r = -1;
#endif
    return r;
}

int mmf__sys_fchmod(int fd, mode_t mode)
{
    int r;
    RETRY(MMF__FAULT_FCHMOD, fchmod(fd, mode));
    return r;
}

int mmf__sys_dup(int fd, int cloexec)
{
    int r;
    RETRY(MMF__FAULT_DUP, fcntl(fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0));
    return r;
}
