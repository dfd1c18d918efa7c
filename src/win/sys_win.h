/* Windows backend internals shared by os_win.c, guard_win.c and
 * named_win.c. Only what mingw-w64 links by default (kernel32, advapi32):
 * a static libmmf.a needs no extra -l flags. */
#ifndef MMF_SYS_WIN_H
#define MMF_SYS_WIN_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0600
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0600 /* Vista: SRW locks, SetFileInformationByHandle */
#endif

#include "../mmf_internal.h"
#include "fault_win.h"

#include <windows.h>

#define MMF__H(x) ((HANDLE)(x))
#define MMF__MH(x) ((mmf_handle)(x))

/* ---- the Win32 calls whose failures the backend handles ---- */

/*
 * MMF__WIN_CALL(op, failed, call) is `call`, unless a fault is armed for
 * `op` (fault_win.h): then it is `failed`, the call's failure value, with
 * the fault's code as GetLastError(), and the OS is not called. Without
 * MMF_FAULT_INJECTION it is `call` alone. The macros below wrap the calls
 * the backend makes in several places.
 */
#ifdef MMF_FAULT_INJECTION
static inline int mmf__win_fault(int op)
{
    int e = mmf__fault_next(op);

    if (e != 0)
        SetLastError((DWORD)e);
    return e != 0;
}
#define MMF__WIN_CALL(op, failed, call) (mmf__win_fault(op) ? (failed) : (call))
#else
#define MMF__WIN_CALL(op, failed, call) (call)
#endif

#define mmf__win_CreateFileW(...)                                              \
    MMF__WIN_CALL(MMF__FAULT_CREATE_FILE, INVALID_HANDLE_VALUE,                \
                  CreateFileW(__VA_ARGS__))
#define mmf__win_CreateFileMappingW(...)                                       \
    MMF__WIN_CALL(MMF__FAULT_CREATE_MAPPING, (HANDLE)NULL,                     \
                  CreateFileMappingW(__VA_ARGS__))
#define mmf__win_MapViewOfFile(...)                                            \
    MMF__WIN_CALL(MMF__FAULT_MAP_VIEW, (LPVOID)NULL, MapViewOfFile(__VA_ARGS__))
#define mmf__win_MapViewOfFileEx(...)                                          \
    MMF__WIN_CALL(MMF__FAULT_MAP_VIEW, (LPVOID)NULL,                           \
                  MapViewOfFileEx(__VA_ARGS__))
/* Commits only: the fault guard's own allocations are not wrapped. */
#define mmf__win_VirtualAlloc(...)                                             \
    MMF__WIN_CALL(MMF__FAULT_COMMIT, (LPVOID)NULL, VirtualAlloc(__VA_ARGS__))

/* Records GetLastError() (or `e`) and returns its MMF_E* code. */
int mmf__win_fail(DWORD e);
int mmf__win_fail_last(void);
/* As mmf__win_fail, for a failure to commit storage (ENOSPC, ERANGE). */
int mmf__win_fail_commit(DWORD e);
/* As mmf__win_fail, for a failure to map a view (address space, ENOMEM). */
int mmf__win_fail_map(DWORD e);

/* UTF-8 to UTF-16 (malloc'd). Invalid UTF-8 → MMF_EINVAL. A path longer
 * than MAX_PATH gets the \\?\ prefix (made absolute) when `path`. */
int mmf__win_wide(const char *s, int path, wchar_t **out);
/* UTF-16 to UTF-8 (malloc'd), or NULL. */
char *mmf__win_utf8(const wchar_t *w);

/* Round-up to the page size; the size and offset of one page. */
uint64_t mmf__win_page_up(uint64_t n);

/* ---- permissions ---- */

/* What the rwx bits of a mode grant, per kind of object. */
enum { MMF__OBJ_MAP = 1, MMF__OBJ_MUTEX = 2, MMF__OBJ_FILE = 3 };

/* A security descriptor to create an object with: owned by this user,
 * with a protected DACL for `mode`. */
typedef struct mmf__win_sec {
    SECURITY_ATTRIBUTES sa;
    SECURITY_DESCRIPTOR sd;
    PACL acl;
} mmf__win_sec;

/* MMF_OK, MMF_ENOTSUP (a mode the rules cannot express) or MMF_ENOMEM. */
int mmf__win_sec_init(mmf__win_sec *s, int obj, unsigned mode, int inheritable);
void mmf__win_sec_free(mmf__win_sec *s);
/* The mode of an object's DACL. `type` is SE_FILE_OBJECT or
 * SE_KERNEL_OBJECT. */
int mmf__win_get_mode(HANDLE h, int obj, unsigned *mode);
int mmf__win_set_mode(HANDLE h, int obj, unsigned mode);
/* The same for a file by path (UTF-16). */
int mmf__win_get_mode_path(const wchar_t *path, unsigned *mode);

/* The SECTION rights a view or map with `access` needs. */
DWORD mmf__win_map_rights(int access);
/* The page protection of a view with `access`. */
DWORD mmf__win_view_protect(int access);
/* Does `h` refer to a file (not a section or other object)? */
int mmf__win_is_file(HANDLE h);

/* ---- sections made by libmmf: the trailer ---- */

/*
 * A non-persisted map of capacity C is a section of page_up(C) + one page.
 * The last page, which no view maps, holds this record, so the exact
 * capacity can be had from the section alone (by name or by handle).
 * A persisted map's name has a separate "meta" section holding the same
 * record plus the file's identity and path, so that an opener can tell
 * whether the file at that path is still the one mapped.
 */
#define MMF__REC_VERSION 2
#define MMF__REC_SHM 1
#define MMF__REC_FILE 2

typedef struct mmf__win_record {
    unsigned char magic[16];
    uint32_t version;
    uint32_t size; /* sizeof(struct mmf__win_record) */
    uint32_t kind; /* MMF__REC_* */
    int32_t access;
    uint32_t flags;
    uint32_t volume; /* meta only: the file's volume serial number */
    uint64_t capacity;
    uint64_t file_index; /* meta only: the file's index on its volume */
    char path[4096];     /* meta only: the file, UTF-8 */
} mmf__win_record;

/* Reads the trailer of section `h`: *total gets the section's mapped size
 * (page-rounded), and *valid whether a libmmf trailer was found (then
 * *rec is filled, path excepted). Errors: the section cannot be mapped. */
int mmf__win_read_trailer(HANDLE h, uint64_t *total, mmf__win_record *rec,
                          int *valid);
/* Commits the reserved pages of [base, base+len), a view of section `s`
 * mapped with `access` at `offset` (SEC_RESERVE sections). */
int mmf__win_commit_view(HANDLE s, void *base, size_t len, uint64_t offset,
                         int access);
/* Does `addr` lie in a view the fault guard replaced with zeros? */
int mmf__win_guard_zeroed(const void *addr);
/* The section behind a map: its own, or its handle. */
HANDLE mmf__win_section_of(const mmf_file *f);

#endif
