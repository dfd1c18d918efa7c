/* POSIX backend internals: the system calls the backend makes, each behind
 * a wrapper that a fault-injection build can make fail on demand. */
#ifndef MMF_SYS_POSIX_H
#define MMF_SYS_POSIX_H

#include "../mmf_internal.h"
#include "fault_posix.h"

#include <errno.h>
#include <sys/types.h>

/* Each returns as the system call does, with errno set on failure. EINTR is
 * never returned: interrupted calls are retried here. */
int mmf__sys_open(const char *path, int flags, mode_t mode);
int mmf__sys_fstat(int fd, void *st);
int mmf__sys_fallocate(int fd, int mode, off_t off, off_t len);
int mmf__sys_ftruncate(int fd, off_t len);
void *mmf__sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
                    off_t off);
int mmf__sys_msync(void *addr, size_t len, int flags);
int mmf__sys_fsync(int fd);
int mmf__sys_sync_range(int fd, off_t off, off_t len, unsigned flags);
int mmf__sys_madvise(void *addr, size_t len, int advice);
int mmf__sys_memfd(const char *name, unsigned flags);
int mmf__sys_fchmod(int fd, mode_t mode);
int mmf__sys_dup(int fd, int cloexec);

#endif
