/*
 * Fault injection for tests: the Win32 calls the Windows backend wraps
 * (the mmf__win_* call macros of sys_win.h), numbered for mmf__fault_set
 * (see ../fault.h). In a build with MMF_FAULT_INJECTION defined, an armed
 * fault makes the call fail as the OS would, with that GetLastError() code,
 * without calling it. In normal builds this costs nothing.
 */
#ifndef MMF_FAULT_WIN_H
#define MMF_FAULT_WIN_H

#include "../fault.h"

enum {
    MMF__FAULT_CREATE_FILE,    /* CreateFileW */
    MMF__FAULT_CREATE_MAPPING, /* CreateFileMappingW */
    MMF__FAULT_MAP_VIEW,       /* MapViewOfFile, MapViewOfFileEx */
    MMF__FAULT_SET_ALLOCATION, /* SetFileInformationByHandle: allocation */
    MMF__FAULT_SET_EOF,        /* SetFileInformationByHandle: end of file */
    MMF__FAULT_FLUSH_VIEW,     /* FlushViewOfFile */
    MMF__FAULT_FLUSH_FILE,     /* FlushFileBuffers */
    MMF__FAULT_COMMIT,         /* VirtualAlloc(MEM_COMMIT) */
    MMF__FAULT_DUPLICATE,      /* DuplicateHandle */
    MMF__FAULT_SET_SECURITY,   /* SetSecurityInfo */
    MMF__FAULT_COUNT
};
_Static_assert(MMF__FAULT_COUNT <= MMF__FAULT_MAX, "too many fault ops");

#endif
