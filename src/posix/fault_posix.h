/*
 * Fault injection for tests. In a build with MMF_FAULT_INJECTION defined,
 * each wrapped system call first asks mmf__fault_next(); a non-zero answer
 * is returned as that call's errno without calling the OS. Tests arm a
 * fault with mmf__fault_set. In normal builds this costs nothing.
 */
#ifndef MMF_FAULT_POSIX_H
#define MMF_FAULT_POSIX_H

enum {
    MMF__FAULT_OPEN,
    MMF__FAULT_FSTAT,
    MMF__FAULT_FALLOCATE,
    MMF__FAULT_FTRUNCATE,
    MMF__FAULT_MMAP,
    MMF__FAULT_MSYNC,
    MMF__FAULT_FSYNC,
    MMF__FAULT_SYNC_RANGE,
    MMF__FAULT_MADVISE,
    MMF__FAULT_MEMFD,
    MMF__FAULT_FCHMOD,
    MMF__FAULT_DUP,
    MMF__FAULT_COUNT
};

#ifdef MMF_FAULT_INJECTION
/* Arms a fault: the calls of `op` after the first `skip` ones fail with
 * `err`, `count` times (-1: every time). err 0 disarms. */
void mmf__fault_set(int op, int err, int skip, int count);
/* Disarms every fault. */
void mmf__fault_clear(void);
/* How many times `op` was called (injected or not) since the last clear. */
int mmf__fault_calls(int op);
int mmf__fault_next(int op);
#define MMF__FAULT(op) mmf__fault_next(op)
#else
#define MMF__FAULT(op) 0
#endif

#endif
