/* The Windows backend: files, sections, views, flush, permissions, locks,
 * and the one table from GetLastError() codes to MMF_E*. */
#include "sys_win.h"

#include <aclapi.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <winioctl.h>

/* ---- errors ---- */

#ifndef SECTION_MAP_EXECUTE_EXPLICIT
#define SECTION_MAP_EXECUTE_EXPLICIT 0x0020
#endif
#ifndef ERROR_DISK_QUOTA_EXCEEDED
#define ERROR_DISK_QUOTA_EXCEEDED 1295L
#endif

int mmf__error_from_os(int os_error)
{
    switch ((DWORD)os_error) {
    case 0:
        return MMF_EIO;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
    case ERROR_BAD_UNIT:
    case ERROR_DEV_NOT_EXIST:
    case ERROR_CANT_RESOLVE_FILENAME:
        return MMF_ENOENT;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
        return MMF_EEXIST;
    case ERROR_ACCESS_DENIED:
    case ERROR_WRITE_PROTECT:
    case ERROR_NETWORK_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
    case ERROR_INVALID_ACCESS:
    case ERROR_CANT_ACCESS_FILE:
        return MMF_EACCES;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
    case ERROR_DISK_QUOTA_EXCEEDED:
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_PAGEFILE_QUOTA:
        return MMF_ENOSPC;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_NO_SYSTEM_RESOURCES:
    case ERROR_NOT_ENOUGH_QUOTA:
    case ERROR_TOO_MANY_OPEN_FILES:
    case ERROR_INVALID_ADDRESS:
        return MMF_ENOMEM;
    case ERROR_FILENAME_EXCED_RANGE:
    case ERROR_BUFFER_OVERFLOW:
        return MMF_ENAMETOOLONG;
    case ERROR_FILE_TOO_LARGE:
    case ERROR_NEGATIVE_SEEK:
    case ERROR_ARITHMETIC_OVERFLOW:
        return MMF_ERANGE;
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_FUNCTION:
    case ERROR_CALL_NOT_IMPLEMENTED:
    case ERROR_DIRECTORY:
    case ERROR_BAD_EXE_FORMAT:
    case ERROR_FILE_INVALID:
        return MMF_ENOTSUP;
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_USER_MAPPED_FILE:
    case ERROR_BUSY:
    case ERROR_PIPE_BUSY:
        return MMF_EBUSY;
    case ERROR_TIMEOUT:
    case WAIT_TIMEOUT:
        return MMF_ETIMEDOUT;
    case ERROR_NOT_OWNER:
        return MMF_EPERM;
    case ERROR_INVALID_HANDLE:
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
    case ERROR_NO_UNICODE_TRANSLATION:
        return MMF_EINVAL;
    default: /* ERROR_CRC, ERROR_READ_FAULT, ERROR_IO_DEVICE, ... */
        return MMF_EIO;
    }
}

int mmf__win_fail(DWORD e)
{
    return mmf__fail(mmf__error_from_os((int)e), (int)e);
}

int mmf__win_fail_last(void)
{
    return mmf__win_fail(GetLastError());
}

int mmf__win_fail_commit(DWORD e)
{
    switch (e) {
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_PAGEFILE_QUOTA:
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        return mmf__fail(MMF_ENOSPC, (int)e);
    case ERROR_FILE_TOO_LARGE:
    case ERROR_INVALID_PARAMETER:
    case ERROR_ARITHMETIC_OVERFLOW:
        return mmf__fail(MMF_ERANGE, (int)e);
    default:
        return mmf__win_fail(e);
    }
}

/* ---- system ---- */

static SYSTEM_INFO sysinfo;
static INIT_ONCE sysinfo_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK load_sysinfo(PINIT_ONCE once, PVOID arg, PVOID *ctx)
{
    (void)once;
    (void)arg;
    (void)ctx;
    GetSystemInfo(&sysinfo);
    if (sysinfo.dwPageSize == 0)
        sysinfo.dwPageSize = 4096;
    if (sysinfo.dwAllocationGranularity == 0)
        sysinfo.dwAllocationGranularity = 65536;
    return TRUE;
}

size_t mmf__os_page_size(void)
{
    InitOnceExecuteOnce(&sysinfo_once, load_sysinfo, NULL, NULL);
    return sysinfo.dwPageSize;
}

size_t mmf__os_granularity(void)
{
    InitOnceExecuteOnce(&sysinfo_once, load_sysinfo, NULL, NULL);
    return sysinfo.dwAllocationGranularity;
}

uint64_t mmf__win_page_up(uint64_t n)
{
    uint64_t page = mmf__os_page_size();
    return (n + page - 1) / page * page;
}

/* ---- strings ---- */

int mmf__win_wide(const char *s, int path, wchar_t **out)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w;

    if (n <= 0)
        return mmf__fail(MMF_EINVAL, (int)GetLastError());
    w = malloc((size_t)n * sizeof *w);
    if (w == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    if (path && n > MAX_PATH && wcsncmp(w, L"\\\\?\\", 4) != 0) {
        /* Long paths need the \\?\ form, which must be absolute. */
        DWORD full = GetFullPathNameW(w, 0, NULL, NULL);
        wchar_t *p = full ? malloc((full + 8) * sizeof *p) : NULL;
        if (p == NULL) {
            free(w);
            return full ? mmf__fail(MMF_ENOMEM, 0) : mmf__win_fail_last();
        }
        if (wcsncmp(w, L"\\\\", 2) == 0) { /* \\server\share\... */
            wcscpy(p, L"\\\\?\\UNC");
            GetFullPathNameW(w, full, p + 7, NULL);
            p[7] = L'\\'; /* \\?\UNC\server\share: one leading slash */
            memmove(p + 8, p + 9, (wcslen(p + 9) + 1) * sizeof *p);
        } else {
            wcscpy(p, L"\\\\?\\");
            GetFullPathNameW(w, full, p + 4, NULL);
        }
        free(w);
        w = p;
    }
    *out = w;
    return MMF_OK;
}

char *mmf__win_utf8(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s;

    if (n <= 0)
        return NULL;
    s = malloc((size_t)n);
    if (s != NULL)
        WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
    return s;
}

/* ---- files ---- */

int mmf__win_is_file(HANDLE h)
{
    BY_HANDLE_FILE_INFORMATION bi;
    DWORD type = GetFileType(h);

    /* Wine reports sections as FILE_TYPE_DISK; only files have file
     * information. */
    return type == FILE_TYPE_DISK && GetFileInformationByHandle(h, &bi);
}

static int is_directory(const wchar_t *w)
{
    DWORD a = GetFileAttributesW(w);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}

/* Longer than Windows can name: a path over 32767 UTF-16 units, or a
 * component over 255 (the limit of NTFS, FAT, exFAT and ReFS), which
 * CreateFileW reports as ERROR_INVALID_NAME (wine: not found). */
static int name_too_long(const wchar_t *w)
{
    size_t run = 0;

    if (wcslen(w) > 32767)
        return 1;
    for (; *w; w++) {
        run = *w == L'\\' || *w == L'/' ? 0 : run + 1;
        if (run > 255)
            return 1;
    }
    return 0;
}

/* CreateFileW asking for execute rights too (an execute map needs them),
 * and for fewer when refused. */
static HANDLE open_w(const wchar_t *w, int writable, DWORD disposition,
                     int inheritable)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, inheritable ? TRUE : FALSE};
    DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    DWORD rights = GENERIC_READ | (writable ? GENERIC_WRITE : 0);
    HANDLE h = mmf__win_CreateFileW(w, rights | FILE_EXECUTE, share, &sa,
                                    disposition, FILE_ATTRIBUTE_NORMAL, NULL);

    if (h == INVALID_HANDLE_VALUE && GetLastError() == ERROR_ACCESS_DENIED)
        h = mmf__win_CreateFileW(w, rights, share, &sa, disposition,
                                 FILE_ATTRIBUTE_NORMAL, NULL);
    return h;
}

int mmf__os_open_file(const char *path, int mode, int writable, int may_create,
                      int inheritable, mmf_handle *out, int *created,
                      int *truncate)
{
    wchar_t *w;
    HANDLE h = INVALID_HANDLE_VALUE;
    DWORD e = 0;
    int rc = mmf__win_wide(path, 1, &w);

    *created = 0;
    *truncate = 0;
    if (rc != MMF_OK)
        return rc;
    switch (mode) {
    case MMF_MODE_CREATE_NEW:
        h = open_w(w, writable, CREATE_NEW, inheritable);
        *created = h != INVALID_HANDLE_VALUE;
        break;
    case MMF_MODE_OPEN:
        h = open_w(w, writable, OPEN_EXISTING, inheritable);
        break;
    case MMF_MODE_CREATE:
    case MMF_MODE_OPEN_OR_CREATE:
        if (!may_create) {
            h = open_w(w, writable, OPEN_EXISTING, inheritable);
            if (h == INVALID_HANDLE_VALUE &&
                (GetLastError() == ERROR_FILE_NOT_FOUND ||
                 GetLastError() == ERROR_PATH_NOT_FOUND) &&
                !name_too_long(w)) {
                free(w);
                return mmf__fail(MMF_EINVAL, 0);
            }
            break;
        }
        /* OPEN_ALWAYS tells "created" from "opened" in one call. An
         * existing file is truncated by the caller (MMF_MODE_CREATE) once
         * it knows the mapping can be made. */
        h = open_w(w, writable, OPEN_ALWAYS, inheritable);
        if (h != INVALID_HANDLE_VALUE) {
            int existed = GetLastError() == ERROR_ALREADY_EXISTS;
            *created = !existed;
            *truncate = existed && mode == MMF_MODE_CREATE;
        }
        break;
    default:
        free(w);
        return mmf__fail(MMF_EINVAL, 0);
    }
    if (h == INVALID_HANDLE_VALUE) {
        e = GetLastError();
        if (e == ERROR_ACCESS_DENIED && is_directory(w)) {
            free(w);
            return mmf__fail(MMF_ENOTSUP, (int)e);
        }
        if (name_too_long(w)) {
            free(w);
            return mmf__fail(MMF_ENAMETOOLONG, (int)e);
        }
        free(w);
        return mmf__win_fail(e);
    }
    free(w);
    *out = MMF__MH(h);
    return MMF_OK;
}

char *mmf__os_abspath(const char *path)
{
    wchar_t *w, *full;
    DWORD n;
    char *s = NULL;

    if (mmf__win_wide(path, 1, &w) != MMF_OK)
        return NULL;
    n = GetFullPathNameW(w, 0, NULL, NULL);
    full = n ? malloc(n * sizeof *full) : NULL;
    if (full != NULL && GetFullPathNameW(w, n, full, NULL) > 0)
        s = mmf__win_utf8(full);
    free(full);
    free(w);
    return s;
}

int mmf__os_dup_handle(mmf_handle h, int writable, int inheritable,
                       mmf_handle *out)
{
    HANDLE self = GetCurrentProcess(), d;
    char byte;
    DWORD n;

    /* Negative values are pseudo-handles (GetCurrentThread() is -2), never
     * a file or a section: wrong by value alone, as on POSIX. */
    if (h < 0)
        return mmf__fail(MMF_EINVAL, 0);
    if (!MMF__WIN_CALL(MMF__FAULT_DUPLICATE, FALSE,
                       DuplicateHandle(self, MMF__H(h), self, &d, 0,
                                       inheritable ? TRUE : FALSE,
                                       DUPLICATE_SAME_ACCESS))) {
        DWORD e = GetLastError();
        /* Not a handle; else out of handles or memory (MMF_ENOMEM). */
        if (e == ERROR_INVALID_HANDLE)
            return mmf__fail(MMF_EINVAL, (int)e);
        return mmf__win_fail(e);
    }
    /* A file handle's rights: a zero-byte read or write is refused by the
     * I/O manager when the handle lacks them, and moves nothing. Section
     * handles are checked by the probe, which maps them. */
    if (mmf__win_is_file(d)) {
        if ((!ReadFile(d, &byte, 0, &n, NULL) &&
             GetLastError() == ERROR_ACCESS_DENIED) ||
            (writable && !WriteFile(d, &byte, 0, &n, NULL) &&
             GetLastError() == ERROR_ACCESS_DENIED)) {
            CloseHandle(d);
            return mmf__fail(MMF_EACCES, ERROR_ACCESS_DENIED);
        }
    }
    *out = MMF__MH(d);
    return MMF_OK;
}

int mmf__os_handle_info(mmf_handle h, int by_handle, int *kind, uint64_t *size)
{
    BY_HANDLE_FILE_INFORMATION bi;
    DWORD type = GetFileType(MMF__H(h));
    mmf__win_record rec;
    uint64_t total;
    int valid, rc;

    (void)by_handle;
    *size = 0;
    if (type == FILE_TYPE_CHAR || type == FILE_TYPE_PIPE) {
        /* Consoles, NUL, pipes, sockets: Windows cannot map them. */
        *kind = MMF__KIND_UNSUP;
        return MMF_OK;
    }
    if (GetFileInformationByHandle(MMF__H(h), &bi)) {
        if (bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
            *kind = MMF__KIND_UNSUP;
            return MMF_OK;
        }
        *kind = MMF__KIND_FILE;
        *size = (uint64_t)bi.nFileSizeHigh << 32 | bi.nFileSizeLow;
        return MMF_OK;
    }
    /* Not a file: a section (a libmmf map's carries its exact capacity in
     * its trailer; others report their page-rounded size), or something
     * that cannot be mapped. */
    rc = mmf__win_read_trailer(MMF__H(h), &total, &rec, &valid);
    if (rc == MMF_EACCES)
        return rc;
    if (rc != MMF_OK) {
        *kind = MMF__KIND_UNSUP;
        return MMF_OK;
    }
    *kind = MMF__KIND_SHM;
    *size = valid ? rec.capacity : total;
    return MMF_OK;
}

static int set_eof(HANDLE h, uint64_t size)
{
    FILE_END_OF_FILE_INFO eof;

    eof.EndOfFile.QuadPart = (LONGLONG)size;
    return MMF__WIN_CALL(
        MMF__FAULT_SET_EOF, FALSE,
        SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof));
}

static int set_allocation(HANDLE h, uint64_t size)
{
    FILE_ALLOCATION_INFO al;

    al.AllocationSize.QuadPart = (LONGLONG)size;
    return MMF__WIN_CALL(
        MMF__FAULT_SET_ALLOCATION, FALSE,
        SetFileInformationByHandle(h, FileAllocationInfo, &al, sizeof al));
}

int mmf__os_grow(mmf_handle h, uint64_t old_size, uint64_t new_size,
                 int reserve)
{
    HANDLE fh = MMF__H(h);
    DWORD e;

    if (new_size > (uint64_t)INT64_MAX)
        return mmf__fail(MMF_ERANGE, ERROR_FILE_TOO_LARGE);
    if (!reserve && new_size > old_size) {
        /* Delay-allocated: make the file sparse first, so that NTFS does
         * not allocate the new range (best effort: FAT and some others
         * have no sparse files, and the growth goes on regardless). */
        DWORD ret;
        (void)DeviceIoControl(fh, FSCTL_SET_SPARSE, NULL, 0, NULL, 0, &ret,
                              NULL);
    }
    if (reserve && new_size > old_size && !set_allocation(fh, new_size)) {
        e = GetLastError();
        /* File systems (and wine) that cannot reserve: plain growth. */
        if (e != ERROR_CALL_NOT_IMPLEMENTED && e != ERROR_NOT_SUPPORTED &&
            e != ERROR_INVALID_FUNCTION && e != ERROR_INVALID_PARAMETER) {
            (void)set_allocation(fh, old_size);
            return mmf__win_fail_commit(e);
        }
    }
    if (!set_eof(fh, new_size)) {
        e = GetLastError();
        if (reserve && new_size > old_size)
            (void)set_allocation(fh, old_size);
        if (new_size < old_size)
            return mmf__win_fail(e);      /* ERROR_USER_MAPPED_FILE: EBUSY */
        if (e == ERROR_NOT_ENOUGH_MEMORY) /* how wine reports EFBIG */
            return mmf__fail(MMF_ERANGE, (int)e);
        return mmf__win_fail_commit(e);
    }
    return MMF_OK;
}

void mmf__os_remove_created(const char *path, mmf_handle h)
{
    BY_HANDLE_FILE_INFORMATION a, b;
    wchar_t *w;
    HANDLE o;

    if (mmf__win_wide(path, 1, &w) != MMF_OK)
        return;
    o = CreateFileW(w, 0,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (o != INVALID_HANDLE_VALUE) {
        int same = GetFileInformationByHandle(MMF__H(h), &a) &&
                   GetFileInformationByHandle(o, &b) &&
                   a.dwVolumeSerialNumber == b.dwVolumeSerialNumber &&
                   a.nFileIndexHigh == b.nFileIndexHigh &&
                   a.nFileIndexLow == b.nFileIndexLow;
        CloseHandle(o);
        if (same)
            (void)DeleteFileW(w);
    }
    free(w);
}

/* ---- sections ---- */

DWORD mmf__win_map_rights(int access)
{
    switch (access) {
    case MMF_ACCESS_READ:
    case MMF_ACCESS_COPY_ON_WRITE:
        return FILE_MAP_READ;
    /* Windows checks FILE_MAP_EXECUTE (the _EXPLICIT bit) on open, wine
     * SECTION_MAP_EXECUTE on mapping: ask for both. */
    case MMF_ACCESS_READ_EXECUTE:
        return FILE_MAP_READ | FILE_MAP_EXECUTE | SECTION_MAP_EXECUTE;
    case MMF_ACCESS_READ_WRITE_EXECUTE:
        return FILE_MAP_READ | FILE_MAP_WRITE | FILE_MAP_EXECUTE |
               SECTION_MAP_EXECUTE;
    default: /* READ_WRITE, WRITE (readable, as on POSIX) */
        return FILE_MAP_READ | FILE_MAP_WRITE;
    }
}

/* MapViewOfFile's dwDesiredAccess for a view. */
static DWORD view_rights(int access)
{
    switch (access) {
    case MMF_ACCESS_READ:
        return FILE_MAP_READ;
    case MMF_ACCESS_COPY_ON_WRITE:
        return FILE_MAP_COPY;
    case MMF_ACCESS_READ_EXECUTE:
        return FILE_MAP_READ | FILE_MAP_EXECUTE;
    case MMF_ACCESS_READ_WRITE_EXECUTE:
        return FILE_MAP_WRITE | FILE_MAP_EXECUTE;
    default:
        return FILE_MAP_WRITE;
    }
}

DWORD mmf__win_view_protect(int access)
{
    switch (access) {
    case MMF_ACCESS_READ:
        return PAGE_READONLY;
    case MMF_ACCESS_COPY_ON_WRITE:
        return PAGE_WRITECOPY;
    case MMF_ACCESS_READ_EXECUTE:
        return PAGE_EXECUTE_READ;
    case MMF_ACCESS_READ_WRITE_EXECUTE:
        return PAGE_EXECUTE_READWRITE;
    default:
        return PAGE_READWRITE;
    }
}

HANDLE mmf__win_section_of(const mmf_file *f)
{
    return MMF__H(f->section != MMF_INVALID_HANDLE ? f->section : f->handle);
}

static void *map_view(HANDLE s, DWORD rights, uint64_t offset, size_t len,
                      void *at)
{
    return mmf__win_MapViewOfFileEx(s, rights, (DWORD)(offset >> 32),
                                    (DWORD)offset, len, at);
}

int mmf__win_fail_map(DWORD e)
{
    if (e == ERROR_ACCESS_DENIED)
        return mmf__fail(MMF_EACCES, (int)e);
    if (e == ERROR_NOT_ENOUGH_MEMORY || e == ERROR_INVALID_ADDRESS ||
        e == ERROR_COMMITMENT_LIMIT)
        return mmf__fail(MMF_ENOMEM, (int)e);
    return mmf__win_fail(e);
}

int mmf__win_commit_view(HANDLE s, void *base, size_t len, uint64_t offset,
                         int access)
{
    unsigned char *p = base, *end = p + len;
    MEMORY_BASIC_INFORMATION mbi;

    while (p < end && VirtualQuery(p, &mbi, sizeof mbi) == sizeof mbi &&
           mbi.AllocationBase == base) {
        unsigned char *next = (unsigned char *)mbi.BaseAddress + mbi.RegionSize;
        if (mbi.State == MEM_RESERVE) {
            size_t n = (size_t)((next < end ? next : end) - p);
            uint64_t at = offset + (uint64_t)(p - (unsigned char *)base);
            if (mmf__win_VirtualAlloc(p, n, MEM_COMMIT,
                                      mmf__win_view_protect(access)) == NULL) {
                /* Some views (read-only ones under wine) refuse: commit
                 * through a writable view; commitment belongs to the
                 * section, so every view sees it. */
                DWORD e = GetLastError();
                size_t gran = mmf__os_granularity();
                uint64_t a = at - at % gran;
                unsigned char *t =
                    map_view(s, FILE_MAP_WRITE, a, (size_t)(at - a) + n, NULL);
                if (t == NULL)
                    return mmf__win_fail_commit(e);
                if (mmf__win_VirtualAlloc(t + (at - a), n, MEM_COMMIT,
                                          PAGE_READWRITE) == NULL) {
                    e = GetLastError();
                    UnmapViewOfFile(t);
                    return mmf__win_fail_commit(e);
                }
                UnmapViewOfFile(t);
            }
        }
        p = next;
    }
    return MMF_OK;
}

int mmf__os_map(mmf_file *f, uint64_t aligned_offset, size_t len, int access,
                void **base)
{
    HANDLE s = mmf__win_section_of(f);
    void *p = map_view(s, view_rights(access), aligned_offset, len, NULL);
    int rc;

    if (p == NULL)
        return mmf__win_fail_map(GetLastError());
    if (f->kind == MMF__KIND_SHM) {
        /* A delay-allocated map commits each view's range as it opens,
         * as .NET does. */
        rc = mmf__win_commit_view(s, p, len, aligned_offset, access);
        if (rc != MMF_OK) {
            UnmapViewOfFile(p);
            return rc;
        }
    }
    *base = p;
    return MMF_OK;
}

void mmf__os_unmap(void *base, size_t len)
{
    (void)len;
    if (base == NULL)
        return;
    /* A view the fault guard replaced is plain memory now. */
    if (!UnmapViewOfFile(base))
        (void)VirtualFree(base, 0, MEM_RELEASE);
}

int mmf__os_commit(mmf_handle h, uint64_t offset, uint64_t len)
{
    /* Views commit their own range when they are mapped. */
    (void)h;
    (void)offset;
    (void)len;
    return MMF_OK;
}

int mmf__os_probe(mmf_handle h, int kind, int access)
{
    HANDLE s;
    void *p;
    DWORD e;

    if (kind == MMF__KIND_SHM) {
        p = map_view(MMF__H(h), view_rights(access), 0, mmf__os_page_size(),
                     NULL);
        if (p == NULL)
            return mmf__win_fail_map(GetLastError());
        UnmapViewOfFile(p);
        return MMF_OK;
    }
    if (kind != MMF__KIND_FILE)
        return mmf__fail(MMF_ENOTSUP, 0);
    /* A section of the file as it is now tells whether its handle allows
     * this access (execute rights included). An empty file cannot have a
     * section; mmf__os_file_init finds out after growth. */
    s = mmf__win_CreateFileMappingW(MMF__H(h), NULL,
                                    mmf__win_view_protect(access), 0, 0, NULL);
    if (s != NULL) {
        CloseHandle(s);
        return MMF_OK;
    }
    e = GetLastError();
    if (e == ERROR_FILE_INVALID) /* empty file */
        return MMF_OK;
    /* Refused access, or a lack of memory the caller reports last. */
    return mmf__win_fail_map(e);
}

int mmf__os_file_init(mmf_file *f)
{
    mmf__win_sec sec;
    SECURITY_ATTRIBUTES plain = {sizeof plain, NULL, FALSE};
    SECURITY_ATTRIBUTES *sa = &plain;
    wchar_t *wname = NULL;
    int inherit = (f->flags & MMF_OPT_INHERITABLE) != 0;
    int exec = f->access == MMF_ACCESS_READ_EXECUTE ||
               f->access == MMF_ACCESS_READ_WRITE_EXECUTE;
    HANDLE s;
    DWORD e;
    int rc;

    if (f->kind != MMF__KIND_FILE || f->section != MMF_INVALID_HANDLE)
        return MMF_OK;
    plain.bInheritHandle = inherit ? TRUE : FALSE;
    if (f->name != NULL) {
        /* A named persisted map: the name is the section's, owner-only. */
        rc = mmf__win_wide(f->name, 0, &wname);
        if (rc != MMF_OK)
            return rc;
        rc = mmf__win_sec_init(&sec, MMF__OBJ_MAP, exec ? 0700 : 0600, inherit);
        if (rc != MMF_OK) {
            free(wname);
            return rc;
        }
        sa = &sec.sa;
    }
    s = mmf__win_CreateFileMappingW(
        MMF__H(f->handle), sa, mmf__win_view_protect(f->access),
        (DWORD)(f->capacity >> 32), (DWORD)f->capacity, wname);
    e = GetLastError();
    if (wname != NULL)
        mmf__win_sec_free(&sec);
    free(wname);
    if (s != NULL && f->name != NULL && e == ERROR_ALREADY_EXISTS) {
        CloseHandle(s);
        return mmf__fail(MMF_EEXIST, (int)e);
    }
    if (s == NULL) {
        if (e == ERROR_INVALID_HANDLE && f->name != NULL)
            return mmf__fail(MMF_EEXIST, (int)e); /* another kind of object */
        /* The file holds the storage already: a lack of memory here is
         * MMF_ENOMEM, as for a view. */
        if (e == ERROR_ACCESS_DENIED || e == ERROR_NOT_ENOUGH_MEMORY ||
            e == ERROR_OUTOFMEMORY || e == ERROR_COMMITMENT_LIMIT)
            return mmf__win_fail_map(e);
        return mmf__win_fail_commit(e);
    }
    f->section = MMF__MH(s);
    return MMF_OK;
}

void mmf__os_close_handle(mmf_handle h)
{
    if (h != MMF_INVALID_HANDLE && h != 0)
        (void)CloseHandle(MMF__H(h));
}

int mmf__os_set_inheritable(mmf_handle h, int inheritable)
{
    if (!SetHandleInformation(MMF__H(h), HANDLE_FLAG_INHERIT,
                              inheritable ? HANDLE_FLAG_INHERIT : 0))
        return mmf__win_fail_last();
    return MMF_OK;
}

int mmf__os_get_permissions(mmf_handle h, unsigned *mode)
{
    return mmf__win_get_mode(
        MMF__H(h), mmf__win_is_file(MMF__H(h)) ? MMF__OBJ_FILE : MMF__OBJ_MAP,
        mode);
}

int mmf__os_set_permissions(mmf_handle h, unsigned mode)
{
    return mmf__win_set_mode(
        MMF__H(h), mmf__win_is_file(MMF__H(h)) ? MMF__OBJ_FILE : MMF__OBJ_MAP,
        mode);
}

/* ---- flush ---- */

/* FlushViewOfFile, retried while the pages are locked for I/O (a
 * transient ERROR_LOCK_VIOLATION). */
static int flush_view(void *addr, size_t len)
{
    for (int tries = 0;; tries++) {
        DWORD e;
        if (MMF__WIN_CALL(MMF__FAULT_FLUSH_VIEW, FALSE,
                          FlushViewOfFile(addr, len)))
            return MMF_OK;
        e = GetLastError();
        /* Not a view any more: the fault guard replaced it with zeros. */
        if (e == ERROR_INVALID_ADDRESS || e == ERROR_INVALID_PARAMETER)
            return mmf__fail(MMF_EIO, (int)e);
        if (e != ERROR_LOCK_VIOLATION || tries == 50)
            return mmf__win_fail(e);
        Sleep(tries < 5 ? 0 : 1);
    }
}

/* FlushFileBuffers of the mapped file: its handle, or, for a map opened by
 * name, the file reopened by path. */
static int durable(mmf_file *f)
{
    HANDLE h = MMF__H(f->handle), own = NULL;
    int writer = mmf__access_can_write(f->access) &&
                 f->access != MMF_ACCESS_COPY_ON_WRITE;
    DWORD e;

    if (f->section == MMF_INVALID_HANDLE) {
        wchar_t *w;
        if (f->path == NULL || mmf__win_wide(f->path, 1, &w) != MMF_OK)
            return mmf__fail(MMF_ENOTSUP, 0);
        own = mmf__win_CreateFileW(
            w, GENERIC_WRITE,
            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
            OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
        free(w);
        if (own == INVALID_HANDLE_VALUE) {
            e = GetLastError();
            /* Nothing this map wrote needs it. */
            if (!writer && e == ERROR_ACCESS_DENIED)
                return MMF_OK;
            return mmf__fail(MMF_ENOTSUP, (int)e);
        }
        h = own;
    }
    if (!MMF__WIN_CALL(MMF__FAULT_FLUSH_FILE, FALSE, FlushFileBuffers(h))) {
        e = GetLastError();
        if (own != NULL)
            CloseHandle(own);
        /* A read-only handle cannot flush; this map wrote nothing. */
        if (!writer && e == ERROR_ACCESS_DENIED)
            return MMF_OK;
        return mmf__win_fail(e);
    }
    if (own != NULL)
        CloseHandle(own);
    return MMF_OK;
}

int mmf__os_flush_mapping(mmf_file *f, void *addr, size_t len,
                          uint64_t file_off, unsigned flags)
{
    int rc;

    (void)file_off;
    /* A view the guard replaced no longer maps the file. */
    if (mmf__win_guard_zeroed(addr))
        return mmf__fail(MMF_EIO, 0);
    rc = flush_view(addr, len);
    if (rc == MMF_OK && flags == MMF_FLUSH_DURABLE)
        rc = durable(f);
    return rc;
}

int mmf__os_flush_range(mmf_file *f, uint64_t offset, uint64_t len,
                        unsigned flags)
{
    /* Dirty pages belong to the section: flushing any view of them writes
     * them. Map the range a piece at a time. */
    const uint64_t chunk = (uint64_t)1 << 30;
    size_t gran = mmf__os_granularity();
    HANDLE s = mmf__win_section_of(f);
    uint64_t at = offset - offset % gran, end = offset + len;

    while (at < end) {
        uint64_t n = end - at < chunk ? end - at : chunk;
        void *p = map_view(s, FILE_MAP_READ, at, (size_t)n, NULL);
        int rc;
        if (p == NULL)
            return mmf__win_fail_map(GetLastError());
        rc = flush_view(p, (size_t)n);
        UnmapViewOfFile(p);
        if (rc != MMF_OK)
            return rc;
        at += n;
    }
    return flags == MMF_FLUSH_DURABLE ? durable(f) : MMF_OK;
}

/* ---- advice ---- */

int mmf__os_advise(mmf_view *v, void *addr, size_t len, int advice)
{
    size_t page = mmf__os_page_size();
    unsigned char *p = addr;
    int write;

    if (advice != MMF_ADVICE_POPULATE)
        return MMF_OK; /* hints Windows has no cheap equivalent for */
    write = v->head.access != MMF_ACCESS_COPY_ON_WRITE &&
            mmf__access_can_write(v->head.access);
    if (v->head.poisoned)
        return mmf__fail(MMF_EIO, 0);
    /* Fault each page in; the guard turns an in-page error into poison. */
    for (size_t i = 0; i < len && !v->head.poisoned; i += page) {
        if (write)
            atomic_fetch_add((_Atomic unsigned char *)(p + i), 0);
        else
            (void)*(volatile unsigned char *)(p + i);
    }
    return v->head.poisoned ? mmf__fail(MMF_EIO, 0) : MMF_OK;
}

/* ---- locks ---- */

int mmf__os_lock_init(mmf__lock *l)
{
    SRWLOCK *s = malloc(sizeof *s);

    if (s == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    InitializeSRWLock(s);
    l->impl = s;
    return MMF_OK;
}

void mmf__os_lock(mmf__lock *l)
{
    AcquireSRWLockExclusive((SRWLOCK *)l->impl);
}

void mmf__os_unlock(mmf__lock *l)
{
    ReleaseSRWLockExclusive((SRWLOCK *)l->impl);
}

void mmf__os_lock_destroy(mmf__lock *l)
{
    free(l->impl);
    l->impl = NULL;
}

/* ---- permissions ---- */

static struct {
    PSID user, group, everyone;
    unsigned char user_buf[SECURITY_MAX_SID_SIZE];
    unsigned char group_buf[SECURITY_MAX_SID_SIZE];
    unsigned char everyone_buf[SECURITY_MAX_SID_SIZE];
    unsigned char auth_buf[SECURITY_MAX_SID_SIZE];
    unsigned char users_buf[SECURITY_MAX_SID_SIZE];
    unsigned char owner_rights_buf[SECURITY_MAX_SID_SIZE];
    DWORD error;
} ids;
static INIT_ONCE ids_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK load_ids(PINIT_ONCE once, PVOID arg, PVOID *ctx)
{
    union {
        TOKEN_USER user;
        TOKEN_PRIMARY_GROUP group;
        unsigned char buf[512];
    } u;
    HANDLE tok;
    DWORD n = SECURITY_MAX_SID_SIZE;

    (void)once;
    (void)arg;
    (void)ctx;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok)) {
        ids.error = GetLastError();
        return TRUE;
    }
    if (!GetTokenInformation(tok, TokenUser, &u, sizeof u, &n) ||
        !CopySid(sizeof ids.user_buf, ids.user_buf, u.user.User.Sid) ||
        !GetTokenInformation(tok, TokenPrimaryGroup, &u, sizeof u, &n) ||
        !CopySid(sizeof ids.group_buf, ids.group_buf, u.group.PrimaryGroup))
        ids.error = GetLastError();
    CloseHandle(tok);
    n = sizeof ids.everyone_buf;
    if (!CreateWellKnownSid(WinWorldSid, NULL, ids.everyone_buf, &n))
        ids.error = GetLastError();
    n = sizeof ids.auth_buf;
    (void)CreateWellKnownSid(WinAuthenticatedUserSid, NULL, ids.auth_buf, &n);
    n = sizeof ids.users_buf;
    (void)CreateWellKnownSid(WinBuiltinUsersSid, NULL, ids.users_buf, &n);
    n = sizeof ids.owner_rights_buf;
    (void)CreateWellKnownSid(WinCreatorOwnerRightsSid, NULL,
                             ids.owner_rights_buf, &n);
    ids.user = ids.user_buf;
    ids.group = ids.group_buf;
    ids.everyone = ids.everyone_buf;
    return TRUE;
}

static int load_identity(void)
{
    InitOnceExecuteOnce(&ids_once, load_ids, NULL, NULL);
    return ids.error ? mmf__fail(MMF_EACCES, (int)ids.error) : MMF_OK;
}

/* The rights three rwx bits grant on an object of kind `obj`. */
static DWORD rights_of(int obj, unsigned bits)
{
    DWORD r = 0;

    switch (obj) {
    case MMF__OBJ_MAP:
        if (bits & 4)
            r |= SECTION_MAP_READ | SECTION_QUERY;
        if (bits & 2)
            r |= SECTION_MAP_WRITE;
        if (bits & 1) /* FILE_MAP_EXECUTE is the _EXPLICIT bit */
            r |= SECTION_MAP_EXECUTE | SECTION_MAP_EXECUTE_EXPLICIT;
        break;
    case MMF__OBJ_MUTEX:
        /* Using a mutex takes both (wait, then release). */
        if (bits & 4)
            r |= SYNCHRONIZE;
        if (bits & 2)
            r |= MUTEX_MODIFY_STATE;
        break;
    default:
        if (bits & 4)
            r |= FILE_GENERIC_READ;
        if (bits & 2)
            r |= FILE_GENERIC_WRITE;
        if (bits & 1)
            r |= FILE_GENERIC_EXECUTE;
        break;
    }
    return r ? r | READ_CONTROL : 0;
}

/* The rwx bits an access mask grants. */
static unsigned bits_of(int obj, DWORD m)
{
    unsigned b = 0;

    if (m & GENERIC_ALL)
        return 7;
    switch (obj) {
    case MMF__OBJ_MAP:
        if (m & (SECTION_MAP_READ | GENERIC_READ))
            b |= 4;
        if (m & (SECTION_MAP_WRITE | GENERIC_WRITE))
            b |= 2;
        if (m & (SECTION_MAP_EXECUTE | SECTION_MAP_EXECUTE_EXPLICIT |
                 GENERIC_EXECUTE))
            b |= 1;
        break;
    case MMF__OBJ_MUTEX:
        if (m & (SYNCHRONIZE | GENERIC_EXECUTE))
            b |= 4;
        if (m & (MUTEX_MODIFY_STATE | GENERIC_WRITE))
            b |= 2;
        break;
    default:
        if (m & (FILE_READ_DATA | GENERIC_READ))
            b |= 4;
        if (m & (FILE_WRITE_DATA | GENERIC_WRITE))
            b |= 2;
        if (m & (FILE_EXECUTE | GENERIC_EXECUTE))
            b |= 1;
        break;
    }
    return b;
}

/* Builds the DACL of `mode` for an object owned by `owner` with primary
 * group `group`: the owner, the group where its bits differ from
 * Everyone's, and Everyone. */
static int build_acl(int obj, unsigned mode, PSID owner, PSID group, PACL *out)
{
    unsigned u = (mode >> 6) & 7, g = (mode >> 3) & 7, o = mode & 7;
    DWORD size = sizeof(ACL);
    DWORD extra = obj == MMF__OBJ_FILE ? DELETE : 0;
    PACL acl;

    if (g != u && g != o)
        return mmf__fail(MMF_ENOTSUP, 0);
    size += 3 * (sizeof(ACCESS_ALLOWED_ACE) + SECURITY_MAX_SID_SIZE);
    acl = malloc(size);
    if (acl == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    if (!InitializeAcl(acl, size, ACL_REVISION) ||
        !AddAccessAllowedAce(
            acl, ACL_REVISION,
            rights_of(obj, u) | READ_CONTROL | WRITE_DAC | extra, owner) ||
        (g != o && g != 0 &&
         !AddAccessAllowedAce(acl, ACL_REVISION, rights_of(obj, g), group)) ||
        (o != 0 && !AddAccessAllowedAce(acl, ACL_REVISION, rights_of(obj, o),
                                        ids.everyone))) {
        DWORD e = GetLastError();
        free(acl);
        return mmf__fail(MMF_ENOMEM, (int)e);
    }
    *out = acl;
    return MMF_OK;
}

int mmf__win_sec_init(mmf__win_sec *s, int obj, unsigned mode, int inheritable)
{
    int rc = load_identity();

    memset(s, 0, sizeof *s);
    if (rc != MMF_OK)
        return rc;
    rc = build_acl(obj, mode, ids.user, ids.group, &s->acl);
    if (rc != MMF_OK)
        return rc;
    if (!InitializeSecurityDescriptor(&s->sd, SECURITY_DESCRIPTOR_REVISION) ||
        !SetSecurityDescriptorOwner(&s->sd, ids.user, FALSE) ||
        !SetSecurityDescriptorGroup(&s->sd, ids.group, FALSE) ||
        !SetSecurityDescriptorDacl(&s->sd, TRUE, s->acl, FALSE) ||
        !SetSecurityDescriptorControl(&s->sd, SE_DACL_PROTECTED,
                                      SE_DACL_PROTECTED)) {
        DWORD e = GetLastError();
        free(s->acl);
        s->acl = NULL;
        return mmf__fail(MMF_ENOMEM, (int)e);
    }
    s->sa.nLength = sizeof s->sa;
    s->sa.lpSecurityDescriptor = &s->sd;
    s->sa.bInheritHandle = inheritable ? TRUE : FALSE;
    return MMF_OK;
}

void mmf__win_sec_free(mmf__win_sec *s)
{
    free(s->acl);
    s->acl = NULL;
}

/* Allowed-minus-denied rights of the ACEs naming one of `sids`. */
static DWORD acl_rights(PACL acl, PSID *sids, int nsids)
{
    DWORD granted = 0, denied = 0;

    for (DWORD i = 0; acl != NULL && i < acl->AceCount; i++) {
        ACE_HEADER *h;
        PSID sid;
        DWORD mask;
        int match = 0;

        if (!GetAce(acl, i, (void **)&h) || (h->AceFlags & INHERIT_ONLY_ACE))
            continue;
        if (h->AceType == ACCESS_ALLOWED_ACE_TYPE) {
            ACCESS_ALLOWED_ACE *a = (ACCESS_ALLOWED_ACE *)h;
            sid = &a->SidStart;
            mask = a->Mask;
        } else if (h->AceType == ACCESS_DENIED_ACE_TYPE) {
            ACCESS_DENIED_ACE *d = (ACCESS_DENIED_ACE *)h;
            sid = &d->SidStart;
            mask = d->Mask;
        } else {
            continue;
        }
        for (int k = 0; k < nsids && !match; k++)
            match = sids[k] != NULL && IsValidSid(sids[k]) &&
                    EqualSid(sid, sids[k]);
        if (!match)
            continue;
        if (h->AceType == ACCESS_ALLOWED_ACE_TYPE)
            granted |= mask & ~denied;
        else
            denied |= mask & ~granted;
    }
    return granted;
}

/* Does any ACE name `sid`? */
static int acl_names(PACL acl, PSID sid)
{
    if (!IsValidSid(sid))
        return 0;
    for (DWORD i = 0; acl != NULL && i < acl->AceCount; i++) {
        ACE_HEADER *h;
        if (GetAce(acl, i, (void **)&h) &&
            (h->AceType == ACCESS_ALLOWED_ACE_TYPE ||
             h->AceType == ACCESS_DENIED_ACE_TYPE) &&
            !(h->AceFlags & INHERIT_ONLY_ACE) &&
            EqualSid(&((ACCESS_ALLOWED_ACE *)h)->SidStart, sid))
            return 1;
    }
    return 0;
}

static unsigned mode_of_sd(int obj, PSID owner, PSID group, PACL dacl,
                           BOOL present)
{
    PSID owner_ids[2], everyone[1];
    unsigned u, g, o;

    if (!present || dacl == NULL)
        return 0777; /* no DACL: everyone may do anything */
    everyone[0] = ids.everyone;
    o = bits_of(obj, acl_rights(dacl, everyone, 1));
    if (owner != NULL &&
        (acl_names(dacl, owner) || acl_names(dacl, ids.owner_rights_buf))) {
        owner_ids[0] = owner;
        owner_ids[1] = ids.owner_rights_buf;
        u = bits_of(obj, acl_rights(dacl, owner_ids, 2));
    } else {
        /* Rights through the groups every local user is in (files that
         * inherit the directory's ACL). */
        PSID all[3] = {ids.everyone, ids.auth_buf, ids.users_buf};
        u = bits_of(obj, acl_rights(dacl, all, 3));
    }
    g = group != NULL && acl_names(dacl, group)
            ? bits_of(obj, acl_rights(dacl, &group, 1))
            : o;
    return u << 6 | g << 3 | o;
}

/* The mode of the security descriptor that Get(Named)SecurityInfo gave
 * (e: its result); frees it. */
static int mode_of_result(DWORD e, PSECURITY_DESCRIPTOR sd, PSID owner,
                          PSID group, int obj, unsigned *mode)
{
    PACL dacl = NULL;
    BOOL present = FALSE, defaulted;

    if (e != ERROR_SUCCESS)
        return mmf__win_fail(e);
    (void)GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
    *mode = mode_of_sd(obj, owner, group, dacl, present);
    LocalFree(sd);
    return MMF_OK;
}

#define MMF__WIN_SEC_INFO                                                      \
    (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION |                 \
     DACL_SECURITY_INFORMATION)

int mmf__win_get_mode(HANDLE h, int obj, unsigned *mode)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL, group = NULL;
    DWORD e;
    int rc = load_identity();

    if (rc != MMF_OK)
        return rc;
    e = GetSecurityInfo(
        h, obj == MMF__OBJ_FILE ? SE_FILE_OBJECT : SE_KERNEL_OBJECT,
        MMF__WIN_SEC_INFO, &owner, &group, NULL, NULL, &sd);
    return mode_of_result(e, sd, owner, group, obj, mode);
}

int mmf__win_get_mode_path(const wchar_t *path, unsigned *mode)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL, group = NULL;
    DWORD e;
    int rc = load_identity();

    if (rc != MMF_OK)
        return rc;
    e = GetNamedSecurityInfoW(path, SE_FILE_OBJECT, MMF__WIN_SEC_INFO, &owner,
                              &group, NULL, NULL, &sd);
    return mode_of_result(e, sd, owner, group, MMF__OBJ_FILE, mode);
}

int mmf__win_set_mode(HANDLE h, int obj, unsigned mode)
{
    SE_OBJECT_TYPE type =
        obj == MMF__OBJ_FILE ? SE_FILE_OBJECT : SE_KERNEL_OBJECT;
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL, group = NULL;
    PACL acl;
    DWORD e;
    int rc = load_identity();

    if (rc != MMF_OK)
        return rc;
    e = GetSecurityInfo(h, type,
                        OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION,
                        &owner, &group, NULL, NULL, &sd);
    if (e != ERROR_SUCCESS)
        return e == ERROR_ACCESS_DENIED ? mmf__fail(MMF_EPERM, (int)e)
                                        : mmf__win_fail(e);
    rc = build_acl(obj, mode, owner ? owner : ids.user,
                   group ? group : ids.group, &acl);
    if (rc != MMF_OK) {
        LocalFree(sd);
        return rc;
    }
    e = MMF__WIN_CALL(MMF__FAULT_SET_SECURITY, GetLastError(),
                      SetSecurityInfo(h, type,
                                      DACL_SECURITY_INFORMATION |
                                          PROTECTED_DACL_SECURITY_INFORMATION,
                                      NULL, NULL, acl, NULL));
    if (e == ERROR_ACCESS_DENIED && obj == MMF__OBJ_FILE) {
        /* Our file handle lacks WRITE_DAC; the owner may still set it by
         * path. */
        wchar_t path[MAX_PATH * 4];
        DWORD n = GetFinalPathNameByHandleW(h, path, MAX_PATH * 4, 0);
        if (n > 0 && n < MAX_PATH * 4)
            e = SetNamedSecurityInfoW(path, SE_FILE_OBJECT,
                                      DACL_SECURITY_INFORMATION |
                                          PROTECTED_DACL_SECURITY_INFORMATION,
                                      NULL, NULL, acl, NULL);
    }
    free(acl);
    LocalFree(sd);
    if (e == ERROR_ACCESS_DENIED)
        return mmf__fail(MMF_EPERM, (int)e);
    if (e != ERROR_SUCCESS)
        return mmf__win_fail(e);
    return MMF_OK;
}
