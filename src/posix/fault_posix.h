/*
 * Fault injection for tests: the system calls the POSIX backend wraps
 * (sys_posix.c), numbered for mmf__fault_set (see ../fault.h). In a build
 * with MMF_FAULT_INJECTION defined, an armed fault is returned as that
 * call's errno without calling the OS. In normal builds this costs nothing.
 */
#ifndef MMF_FAULT_POSIX_H
#define MMF_FAULT_POSIX_H

#include "../fault.h"

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
_Static_assert(MMF__FAULT_COUNT <= MMF__FAULT_MAX, "too many fault ops");

#endif
