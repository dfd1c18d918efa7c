/*
 * Named objects on Windows, where the kernel gives names the lifetime the
 * API wants: an object lives while any process holds a handle to it. A
 * view holds a reference on its mmf_file, whose section handle stays open
 * until the last view closes, so views keep names alive too.
 *
 * - A non-persisted map named N is the pagefile-backed section N, exactly
 *   as given (Local\ and Global\ honoured), so OpenFileMapping("N") and
 *   .NET see it. It is page_up(capacity) + one page long; the last page,
 *   which no view maps, holds a record (magic, version, exact capacity,
 *   creation access): the trailer.
 * - A persisted map named N is the file's section named N, plus a small
 *   "meta" section <ns>mmf/meta/<N> holding the same record and the file's
 *   identity and path; every holder of the map keeps a handle to it. An
 *   opener checks that the file at that path is still the one mapped.
 * - A mutex named N is the kernel mutex <ns>mmf/mutex/<N>: a namespace of
 *   its own, since user names cannot contain '/'.
 * - Creating and opening a name run under the named mutex
 *   <ns>mmf/lock/<N>, so no one sees a section whose trailer is not written
 *   yet, or a persisted map without its meta.
 * <ns> is Global\ for names given with it, else Local\. Names that would
 * exceed MAX_PATH become a digest.
 */
#include "sys_win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char magic[16] = "libmmf section";

#define REC_HEAD_SIZE ((uint32_t)offsetof(mmf__win_record, path))

/* ---- names ---- */

static const char *base_name(const char *name)
{
    if (strncmp(name, "Local\\", 6) == 0)
        return name + 6;
    if (strncmp(name, "Global\\", 7) == 0)
        return name + 7;
    return name;
}

/* "<ns>mmf/<what>/<base>" in UTF-16, or a digest of the base when that
 * would exceed MAX_PATH. */
static int internal_name(const char *name, const char *what, wchar_t **out)
{
    const char *ns = strncmp(name, "Global\\", 7) == 0 ? "Global\\" : "Local\\";
    const char *base = base_name(name);
    char buf[400];
    int n = snprintf(buf, sizeof buf, "%smmf/%s/%s", ns, what, base);

    if (n < 0 || n >= MAX_PATH) {
        /* Two FNV-1a 64-bit hashes with different offsets. */
        uint64_t h1 = 0xcbf29ce484222325u, h2 = 0x84222325cbf29ce4u;
        for (const unsigned char *p = (const unsigned char *)base; *p; p++) {
            h1 = (h1 ^ *p) * 0x100000001b3u;
            h2 = (h2 ^ *p) * 0x100000001b3u + 1;
        }
        snprintf(buf, sizeof buf, "%smmf/%s/#%016llx%016llx", ns, what,
                 (unsigned long long)h1, (unsigned long long)h2);
    }
    return mmf__win_wide(buf, 0, out);
}

/* ---- the per-name lock ---- */

/* Takes the lock of `name`, or returns NULL when it cannot be had (a lock
 * object of another user): the caller then goes on unlocked. */
static HANDLE admin_lock(const char *name)
{
    mmf__win_sec sec;
    wchar_t *w;
    HANDLE m;
    DWORD r;

    if (internal_name(name, "lock", &w) != MMF_OK)
        return NULL;
    if (mmf__win_sec_init(&sec, MMF__OBJ_MUTEX, 0600, 0) != MMF_OK) {
        free(w);
        return NULL;
    }
    m = CreateMutexExW(&sec.sa, w, 0, SYNCHRONIZE | MUTEX_MODIFY_STATE);
    mmf__win_sec_free(&sec);
    free(w);
    if (m == NULL)
        return NULL;
    /* WAIT_ABANDONED: a process died in the middle; the lock is ours. */
    r = WaitForSingleObject(m, INFINITE);
    if (r != WAIT_OBJECT_0 && r != WAIT_ABANDONED) {
        CloseHandle(m);
        return NULL;
    }
    return m;
}

static void admin_unlock(HANDLE m)
{
    if (m != NULL) {
        ReleaseMutex(m);
        CloseHandle(m);
    }
}

/* ---- trailers and records ---- */

static void rec_init(mmf__win_record *rec, uint32_t kind, int access,
                     unsigned flags, uint64_t capacity)
{
    memset(rec, 0, sizeof *rec);
    memcpy(rec->magic, magic, sizeof magic);
    rec->version = MMF__REC_VERSION;
    rec->size = REC_HEAD_SIZE;
    rec->kind = kind;
    rec->access = access;
    rec->flags = flags;
    rec->capacity = capacity;
}

static int rec_valid(const mmf__win_record *rec, uint32_t kind)
{
    return memcmp(rec->magic, magic, sizeof magic) == 0 &&
           rec->version == MMF__REC_VERSION && rec->size == REC_HEAD_SIZE &&
           rec->kind == kind && rec->capacity > 0 &&
           rec->capacity < MMF__MAX_CAPACITY && rec->access >= 0 &&
           rec->access <= MMF_ACCESS_READ_WRITE_EXECUTE;
}

int mmf__win_read_trailer(HANDLE h, uint64_t *total, mmf__win_record *rec,
                          int *valid)
{
    size_t page = mmf__os_page_size();
    MEMORY_BASIC_INFORMATION mbi;
    unsigned char *p, *q;
    DWORD e;

    *valid = 0;
    p = mmf__win_MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
    if (p == NULL) {
        e = GetLastError();
        return e == ERROR_ACCESS_DENIED ? mmf__fail(MMF_EACCES, (int)e)
                                        : mmf__win_fail(e);
    }
    /* The whole section is mapped: its size is the sum of the regions of
     * this allocation. */
    q = p;
    while (VirtualQuery(q, &mbi, sizeof mbi) == sizeof mbi &&
           mbi.AllocationBase == p && mbi.RegionSize > 0)
        q = (unsigned char *)mbi.BaseAddress + mbi.RegionSize;
    *total = (uint64_t)(q - p);
    /* The trailer page of a delay-allocated (SEC_RESERVE) map was
     * committed by its creator; a view mapped later may still show it
     * reserved (wine tracks commitment per view), and reading it then
     * would fault: commit it in this view first, which changes nothing
     * where it is committed already. A foreign section's last page may be
     * truly reserved; committing one zero page does not change it. */
    if (*total >= page &&
        VirtualQuery(q - page, &mbi, sizeof mbi) == sizeof mbi &&
        (mbi.State == MEM_COMMIT ||
         (mbi.State == MEM_RESERVE &&
          VirtualAlloc(q - page, page, MEM_COMMIT, PAGE_READONLY) != NULL))) {
        memset(rec, 0, sizeof *rec);
        memcpy(rec, q - page, REC_HEAD_SIZE);
        *valid = rec_valid(rec, MMF__REC_SHM) &&
                 mmf__win_page_up(rec->capacity) + page == *total;
    }
    UnmapViewOfFile(p);
    return MMF_OK;
}

/* Creates the pagefile-backed section of a non-persisted map (named when
 * `w`), with its trailer. *existed: the name was taken (nothing made). */
static int create_shm(const wchar_t *w, uint64_t capacity, int access,
                      int commit, int inheritable, HANDLE *out, int *existed)
{
    size_t page = mmf__os_page_size(), gran = mmf__os_granularity();
    uint64_t total = mmf__win_page_up(capacity) + page;
    uint64_t tpos = total - page, a = tpos - tpos % gran;
    int exec = access == MMF_ACCESS_READ_EXECUTE ||
               access == MMF_ACCESS_READ_WRITE_EXECUTE;
    DWORD prot = (exec ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE) |
                 (commit ? SEC_COMMIT : SEC_RESERVE);
    mmf__win_sec sec;
    mmf__win_record rec;
    unsigned char *t;
    HANDLE h;
    DWORD e;
    int rc;

    *existed = 0;
    if (capacity > (uint64_t)INT64_MAX)
        return mmf__fail(MMF_ERANGE, ERROR_FILE_TOO_LARGE);
    /* Owner-only; an execute map also lets its owner open it for
     * execution. */
    rc = mmf__win_sec_init(&sec, MMF__OBJ_MAP, exec ? 0700 : 0600, inheritable);
    if (rc != MMF_OK)
        return rc;
    h = mmf__win_CreateFileMappingW(INVALID_HANDLE_VALUE, &sec.sa, prot,
                                    (DWORD)(total >> 32), (DWORD)total, w);
    e = GetLastError();
    mmf__win_sec_free(&sec);
    if (h != NULL && w != NULL && e == ERROR_ALREADY_EXISTS) {
        CloseHandle(h);
        *existed = 1;
        return mmf__fail(MMF_EEXIST, (int)e);
    }
    if (h == NULL) {
        if (w != NULL && e == ERROR_INVALID_HANDLE) {
            /* Another kind of object has the name. */
            *existed = 1;
            return mmf__fail(MMF_EEXIST, (int)e);
        }
        /* ERROR_ACCESS_DENIED: a Global\ name without the privilege to
         * create global objects. */
        return mmf__win_fail_commit(e);
    }
    t = mmf__win_MapViewOfFile(h, FILE_MAP_WRITE, (DWORD)(a >> 32), (DWORD)a,
                               (size_t)(tpos - a) + page);
    if (t == NULL) {
        e = GetLastError();
        CloseHandle(h);
        return mmf__win_fail_map(e);
    }
    if (!commit && mmf__win_VirtualAlloc(t + (tpos - a), page, MEM_COMMIT,
                                         PAGE_READWRITE) == NULL) {
        e = GetLastError();
        UnmapViewOfFile(t);
        CloseHandle(h);
        return mmf__win_fail_commit(e);
    }
    rec_init(&rec, MMF__REC_SHM, access, commit ? 0 : MMF_OPT_DELAY_ALLOCATE,
             capacity);
    memcpy(t + (tpos - a), &rec, REC_HEAD_SIZE);
    UnmapViewOfFile(t);
    *out = h;
    return MMF_OK;
}

int mmf__os_anon_create(uint64_t size, int access, int commit, int inheritable,
                        mmf_handle *out)
{
    HANDLE h;
    int existed;
    int rc = create_shm(NULL, size, access, commit, inheritable, &h, &existed);

    if (rc == MMF_OK)
        *out = MMF__MH(h);
    return rc;
}

/* OpenFileMappingW or OpenMutexW. */
typedef HANDLE(WINAPI *open_object_fn)(DWORD, BOOL, LPCWSTR);

/* Opens the object `w` with what `rights` needs, plus the rights to read
 * and set its permissions where granted. */
static HANDLE open_object(open_object_fn open, DWORD rights, const wchar_t *w)
{
    HANDLE h = open(rights | READ_CONTROL | WRITE_DAC, FALSE, w);

    if (h == NULL && GetLastError() == ERROR_ACCESS_DENIED)
        h = open(rights | READ_CONTROL, FALSE, w);
    if (h == NULL && GetLastError() == ERROR_ACCESS_DENIED)
        h = open(rights, FALSE, w);
    return h;
}

/* open_object for a section; *err: why it failed, else 0. */
static HANDLE open_mapping(DWORD rights, const wchar_t *w, DWORD *err)
{
    HANDLE h = open_object(OpenFileMappingW, rights, w);

    *err = h == NULL ? GetLastError() : 0;
    return h;
}

/* The meta section of a persisted map's name: *meta NULL when there is
 * none (the name is a non-persisted or foreign map). */
static int read_meta(const char *name, mmf__win_record *rec, HANDLE *meta)
{
    wchar_t *w;
    DWORD e;
    HANDLE m;
    void *p;
    int rc = internal_name(name, "meta", &w);

    *meta = NULL;
    if (rc != MMF_OK)
        return rc;
    m = open_mapping(FILE_MAP_READ, w, &e);
    free(w);
    if (m == NULL) {
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_INVALID_HANDLE)
            return MMF_OK;
        return mmf__win_fail(e);
    }
    p = mmf__win_MapViewOfFile(m, FILE_MAP_READ, 0, 0, sizeof *rec);
    if (p == NULL) {
        e = GetLastError();
        CloseHandle(m);
        return mmf__win_fail(e);
    }
    memcpy(rec, p, sizeof *rec);
    UnmapViewOfFile(p);
    rec->path[sizeof rec->path - 1] = '\0';
    if (!rec_valid(rec, MMF__REC_FILE)) {
        CloseHandle(m);
        return mmf__fail(MMF_EFORMAT, 0);
    }
    *meta = m;
    return MMF_OK;
}

/* The identity of the file behind `h`: its volume and its index there. */
static int file_identity(HANDLE h, uint32_t *volume, uint64_t *index)
{
    BY_HANDLE_FILE_INFORMATION bi;

    if (!GetFileInformationByHandle(h, &bi))
        return mmf__win_fail_last();
    *volume = bi.dwVolumeSerialNumber;
    *index = (uint64_t)bi.nFileIndexHigh << 32 | bi.nFileIndexLow;
    return MMF_OK;
}

/* Is the file at the path a persisted map's meta records still the file
 * it maps? Moved away or deleted (nothing there, or another file there):
 * MMF_ENOENT, as on POSIX. */
static int check_same_file(const mmf__win_record *rec)
{
    uint32_t volume = 0;
    uint64_t index = 0;
    wchar_t *w;
    HANDLE h;
    DWORD e;
    int rc = mmf__win_wide(rec->path, 1, &w);

    if (rc != MMF_OK)
        return rc;
    /* (A directory opens too, and is not the file.) */
    h = mmf__win_CreateFileW(
        w, FILE_READ_ATTRIBUTES,
        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
        OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    e = GetLastError();
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
            return mmf__fail(MMF_ENOENT, (int)e);
        return mmf__win_fail(e);
    }
    rc = file_identity(h, &volume, &index);
    CloseHandle(h);
    if (rc == MMF_OK && (volume != rec->volume || index != rec->file_index))
        rc = mmf__fail(MMF_ENOENT, 0);
    return rc;
}

static void named_init(mmf__named *out)
{
    memset(out, 0, sizeof *out);
    out->handle = MMF_INVALID_HANDLE;
    out->reg = MMF_INVALID_HANDLE;
}

static void named_undo(mmf__named *out)
{
    mmf__os_close_handle(out->handle);
    mmf__os_close_handle(out->reg);
    free(out->path);
    named_init(out);
}

static int is_exec(int access)
{
    return access == MMF_ACCESS_READ_EXECUTE ||
           access == MMF_ACCESS_READ_WRITE_EXECUTE;
}

/* Opens the live map `name` with `access` (per-name lock held). */
static int open_locked(const char *name, int access, unsigned flags,
                       mmf__named *out)
{
    mmf__win_record rec;
    wchar_t *w;
    HANDLE h, meta;
    DWORD e;
    uint64_t total;
    int created_as = -1, valid, rc;

    named_init(out);
    rc = mmf__win_wide(name, 0, &w);
    if (rc != MMF_OK)
        return rc;
    h = open_mapping(mmf__win_map_rights(access), w, &e);
    free(w);
    if (h == NULL) {
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ||
            e == ERROR_INVALID_HANDLE) /* a name of another kind */
            return mmf__fail(MMF_ENOENT, (int)e);
        return mmf__win_fail(e);
    }
    out->handle = MMF__MH(h);
    rc = read_meta(name, &rec, &meta);
    if (rc != MMF_OK)
        goto fail;
    if (meta != NULL) {
        out->reg = MMF__MH(meta);
        out->kind = MMF__KIND_FILE;
        out->capacity = rec.capacity;
        created_as = rec.access;
        if (mmf__strdup(rec.path, &out->path) != MMF_OK) {
            rc = MMF_ENOMEM;
            goto fail;
        }
    } else {
        rc = mmf__win_read_trailer(h, &total, &rec, &valid);
        if (rc != MMF_OK)
            goto fail;
        out->kind = MMF__KIND_SHM;
        /* A section another program made: its page-rounded size, and
         * whatever access the OS allows. */
        out->capacity = valid ? rec.capacity : total;
        if (valid)
            created_as = rec.access;
    }
    if (created_as >= 0 && !mmf__access_allows(created_as, access)) {
        rc = mmf__fail(MMF_EACCES, 0);
        goto fail;
    }
    if (out->kind == MMF__KIND_FILE && (rc = check_same_file(&rec)) != MMF_OK)
        goto fail;
    if (is_exec(access)) {
        /* Execute access is checked now, not at the first view. */
        void *p = mmf__win_MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_EXECUTE, 0,
                                         0, 1);
        if (p == NULL) {
            e = GetLastError();
            rc =
                mmf__fail(e == ERROR_ACCESS_DENIED ? MMF_EACCES
                                                   : mmf__error_from_os((int)e),
                          (int)e);
            goto fail;
        }
        UnmapViewOfFile(p);
    }
    if ((flags & MMF_OPT_INHERITABLE) && out->reg != MMF_INVALID_HANDLE &&
        (rc = mmf__os_set_inheritable(out->reg, 1)) != MMF_OK)
        goto fail;
    return MMF_OK;
fail:
    named_undo(out);
    return rc;
}

int mmf__os_named_create(const char *name, uint64_t capacity, int access,
                         unsigned flags, int or_open, mmf__named *out)
{
    HANDLE lock, h;
    wchar_t *w;
    int rc, existed;

    named_init(out);
    if (flags & MMF_OPT_KEEP_NAME)
        return mmf__fail(MMF_ENOTSUP, 0); /* Windows names die with holders */
    rc = mmf__win_wide(name, 0, &w);
    if (rc != MMF_OK)
        return rc;
    lock = admin_lock(name);
    rc = open_locked(name, access, flags, out);
    if (rc != MMF_ENOENT) {
        /* Live, or there but denied or not ours to read. */
        if (!or_open &&
            (rc == MMF_OK || rc == MMF_EACCES || rc == MMF_EFORMAT)) {
            if (rc == MMF_OK)
                named_undo(out);
            rc = mmf__fail(MMF_EEXIST, 0);
        }
        goto out;
    }
    rc = create_shm(w, capacity, access, (flags & MMF_OPT_DELAY_ALLOCATE) == 0,
                    (flags & MMF_OPT_INHERITABLE) != 0, &h, &existed);
    if (rc == MMF_EEXIST && or_open) /* a foreign creator won the race */
        rc = open_locked(name, access, flags, out);
    else if (rc == MMF_OK) {
        out->handle = MMF__MH(h);
        out->capacity = capacity;
        out->kind = MMF__KIND_SHM;
        out->created = 1;
    }
out:
    admin_unlock(lock);
    free(w);
    return rc;
}

int mmf__os_named_open(const char *name, int access, unsigned flags,
                       mmf__named *out)
{
    HANDLE lock = admin_lock(name);
    int rc = open_locked(name, access, flags, out);

    admin_unlock(lock);
    return rc;
}

int mmf__os_unlink(const char *name)
{
    (void)name;
    return mmf__fail(MMF_ENOTSUP, 0); /* names live exactly as long as
                                         their holders on Windows */
}

/* ---- persisted named maps ---- */

struct token {
    HANDLE lock;
};

int mmf__os_reg_reserve(const char *name, void **token)
{
    struct token *t = malloc(sizeof *t);
    wchar_t *w;
    HANDLE h;
    DWORD e;
    int rc;

    if (t == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    rc = mmf__win_wide(name, 0, &w);
    if (rc != MMF_OK) {
        free(t);
        return rc;
    }
    t->lock = admin_lock(name);
    h = OpenFileMappingW(FILE_MAP_READ, FALSE, w);
    e = GetLastError();
    free(w);
    if (h != NULL || (e != ERROR_FILE_NOT_FOUND && e != ERROR_PATH_NOT_FOUND)) {
        /* Live, or a name of another kind, or one we may not see. */
        if (h != NULL)
            CloseHandle(h);
        admin_unlock(t->lock);
        free(t);
        return mmf__fail(MMF_EEXIST, h != NULL ? 0 : (int)e);
    }
    *token = t;
    return MMF_OK;
}

void mmf__os_reg_cancel(void *token)
{
    struct token *t = token;

    if (t == NULL)
        return;
    admin_unlock(t->lock);
    free(t);
}

/* The file's path for the record, without a \\?\ prefix. */
static int final_path(HANDLE h, char *out, size_t size)
{
    wchar_t buf[32768];
    DWORD n = GetFinalPathNameByHandleW(h, buf, 32768, 0);
    const wchar_t *p = buf;
    char *s;

    if (n == 0 || n >= 32768)
        return mmf__win_fail_last();
    if (wcsncmp(p, L"\\\\?\\UNC\\", 8) == 0) {
        p += 6;
        buf[6] = L'\\'; /* \\server\share */
    } else if (wcsncmp(p, L"\\\\?\\", 4) == 0 && n >= 6 && p[5] == L':') {
        p += 4;
    }
    s = mmf__win_utf8(p);
    if (s == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    if (strlen(s) >= size) {
        free(s);
        return mmf__fail(MMF_ENAMETOOLONG, 0);
    }
    memcpy(out, s, strlen(s) + 1);
    free(s);
    return MMF_OK;
}

int mmf__os_reg_publish(void *token, mmf_file *f)
{
    mmf__win_record *rec = malloc(sizeof *rec);
    mmf__win_sec sec;
    wchar_t *w = NULL;
    HANDLE m = NULL;
    void *p;
    DWORD e;
    int rc;

    if (rec == NULL) {
        rc = mmf__fail(MMF_ENOMEM, 0);
        goto out;
    }
    rec_init(rec, MMF__REC_FILE, f->access, 0, f->capacity);
    rc = final_path(MMF__H(f->handle), rec->path, sizeof rec->path);
    if (rc == MMF_OK)
        rc = file_identity(MMF__H(f->handle), &rec->volume, &rec->file_index);
    if (rc == MMF_OK)
        rc = internal_name(f->name, "meta", &w);
    if (rc == MMF_OK)
        rc = mmf__win_sec_init(&sec, MMF__OBJ_MAP, 0600,
                               (f->flags & MMF_OPT_INHERITABLE) != 0);
    if (rc != MMF_OK)
        goto out;
    m = mmf__win_CreateFileMappingW(INVALID_HANDLE_VALUE, &sec.sa,
                                    PAGE_READWRITE, 0, sizeof *rec, w);
    e = GetLastError();
    mmf__win_sec_free(&sec);
    if (m == NULL) {
        rc = mmf__win_fail_commit(e);
        goto out;
    }
    p = mmf__win_MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, sizeof *rec);
    if (p == NULL) {
        rc = mmf__win_fail_map(GetLastError());
        CloseHandle(m);
        goto out;
    }
    memcpy(p, rec, sizeof *rec);
    UnmapViewOfFile(p);
    f->holder.fd = MMF__MH(m);
    f->holder.kind = 1;
out:
    free(rec);
    free(w);
    mmf__os_reg_cancel(token);
    return rc;
}

int mmf__os_reg_attach(mmf_handle h, mmf_handle *reg, uint64_t *capacity)
{
    /* The section handle itself keeps the object alive, and
     * mmf__os_handle_info already read the exact capacity. */
    (void)h;
    (void)capacity;
    *reg = MMF_INVALID_HANDLE;
    return MMF_OK;
}

void mmf__os_reg_track(mmf__holder *h)
{
    (void)h; /* no fork on Windows */
}

void mmf__os_reg_release(mmf__holder *h, const char *name)
{
    (void)name;
    mmf__os_close_handle(h->fd);
    h->fd = MMF_INVALID_HANDLE;
}

int mmf__os_reg_set_inheritable(mmf_handle reg, int inheritable)
{
    return mmf__os_set_inheritable(reg, inheritable);
}

int mmf__os_reg_set_permissions(mmf_handle reg, unsigned mode)
{
    return mmf__win_set_mode(MMF__H(reg), MMF__OBJ_MAP, mode);
}

/* ---- named mutexes: native kernel mutexes, recursive and with
 * abandonment (WAIT_ABANDONED) built in ---- */

struct mmf_mutex {
    mmf__mutex_head head; /* first: read by the core */
    HANDLE h;
};

#define MUTEX_USE (SYNCHRONIZE | MUTEX_MODIFY_STATE)

static int mutex_new(const char *name, mmf_mutex **out)
{
    mmf_mutex *m = calloc(1, sizeof *m);

    if (m == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    if (name != NULL && mmf__strdup(name, &m->head.name) != MMF_OK) {
        free(m);
        return MMF_ENOMEM;
    }
    *out = m;
    return MMF_OK;
}

static void mutex_free(mmf_mutex *m)
{
    free(m->head.name);
    free(m);
}

int mmf__os_mutex_create(const char *name, int initially_owned, unsigned flags,
                         mmf_mutex **out)
{
    SECURITY_ATTRIBUTES plain = {sizeof plain, NULL, FALSE};
    int inherit = (flags & MMF_OPT_INHERITABLE) != 0;
    DWORD cf = initially_owned ? CREATE_MUTEX_INITIAL_OWNER : 0, e;
    mmf__win_sec sec;
    mmf_mutex *m;
    wchar_t *w = NULL;
    int rc = mutex_new(name, &m);

    if (rc != MMF_OK)
        return rc;
    if (name == NULL) {
        plain.bInheritHandle = inherit ? TRUE : FALSE;
        m->h = CreateMutexW(&plain, initially_owned ? TRUE : FALSE, NULL);
        if (m->h == NULL) {
            rc = mmf__win_fail_last();
            mutex_free(m);
            return rc;
        }
        m->head.created = 1;
        *out = m;
        return MMF_OK;
    }
    rc = internal_name(name, "mutex", &w);
    if (rc == MMF_OK)
        rc = mmf__win_sec_init(&sec, MMF__OBJ_MUTEX, 0600, inherit);
    if (rc != MMF_OK) {
        free(w);
        mutex_free(m);
        return rc;
    }
    /* Only a creator gets initial ownership. An existing mutex is opened
     * with what its DACL grants us. */
    m->h = CreateMutexExW(&sec.sa, w, cf, MUTEX_USE | READ_CONTROL | WRITE_DAC);
    if (m->h == NULL && GetLastError() == ERROR_ACCESS_DENIED)
        m->h = CreateMutexExW(&sec.sa, w, cf, MUTEX_USE | READ_CONTROL);
    if (m->h == NULL && GetLastError() == ERROR_ACCESS_DENIED)
        m->h = CreateMutexExW(&sec.sa, w, cf, MUTEX_USE);
    e = GetLastError();
    mmf__win_sec_free(&sec);
    free(w);
    if (m->h == NULL) {
        mutex_free(m);
        if (e == ERROR_INVALID_HANDLE)
            return mmf__fail(MMF_EFORMAT, (int)e);
        return mmf__win_fail(e);
    }
    m->head.created = e != ERROR_ALREADY_EXISTS;
    *out = m;
    return MMF_OK;
}

static HANDLE open_mutex(const wchar_t *w)
{
    return open_object(OpenMutexW, MUTEX_USE, w);
}

int mmf__os_mutex_open(const char *name, mmf_mutex **out)
{
    mmf_mutex *m;
    wchar_t *w;
    DWORD e;
    int rc = mutex_new(name, &m);

    if (rc != MMF_OK)
        return rc;
    rc = internal_name(name, "mutex", &w);
    if (rc != MMF_OK) {
        mutex_free(m);
        return rc;
    }
    m->h = open_mutex(w);
    e = GetLastError();
    free(w);
    if (m->h == NULL) {
        mutex_free(m);
        /* An object of another kind has the mutex's name: it exists, but
         * is no mutex (as mmf__os_mutex_create says). */
        if (e == ERROR_INVALID_HANDLE)
            return mmf__fail(MMF_EFORMAT, (int)e);
        return mmf__win_fail(e);
    }
    *out = m;
    return MMF_OK;
}

int mmf__os_mutex_lock(mmf_mutex *m, uint32_t timeout_ms, int try_only)
{
    /* MMF_WAIT_FOREVER is INFINITE; the wait runs on the interrupt-time
     * clock, which does not jump. */
    DWORD r = WaitForSingleObject(m->h, try_only ? 0 : (DWORD)timeout_ms);

    switch (r) {
    case WAIT_OBJECT_0:
        return MMF_OK;
    case WAIT_ABANDONED:
        /* Its owner died holding it; the caller owns it now. */
        return mmf__fail(MMF_EOWNERDEAD, ERROR_ABANDONED_WAIT_0);
    case WAIT_TIMEOUT:
        return mmf__fail(try_only ? MMF_EBUSY : MMF_ETIMEDOUT, WAIT_TIMEOUT);
    default:
        return mmf__win_fail_last();
    }
}

int mmf__os_mutex_unlock(mmf_mutex *m)
{
    if (!ReleaseMutex(m->h))
        return mmf__win_fail_last(); /* ERROR_NOT_OWNER: MMF_EPERM */
    return MMF_OK;
}

int mmf__os_mutex_close(mmf_mutex *m)
{
    CloseHandle(m->h);
    mutex_free(m);
    return MMF_OK;
}

int mmf__os_mutex_set_permissions(mmf_mutex *m, unsigned mode)
{
    if (m->head.name == NULL)
        return MMF_OK; /* unnamed: nothing to protect */
    return mmf__win_set_mode(m->h, MMF__OBJ_MUTEX, mode);
}

int mmf__os_mutex_get_permissions(const mmf_mutex *m, unsigned *mode)
{
    if (m->head.name == NULL) {
        *mode = 0600;
        return MMF_OK;
    }
    return mmf__win_get_mode(m->h, MMF__OBJ_MUTEX, mode);
}

/* ---- inspection ---- */

static void info_init(mmf_info *out, const char *name)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", base_name(name));
    out->owner = -1;   /* Windows owners are SIDs, not uids */
    out->holders = -1; /* Windows cannot count a section's processes */
}

static int stat_map(const char *name, mmf_info *out)
{
    mmf__win_record rec;
    HANDLE h, meta, lock;
    wchar_t *w;
    uint64_t total;
    unsigned mode = 0;
    DWORD e;
    int valid = 0, rc = mmf__win_wide(name, 0, &w);

    if (rc != MMF_OK)
        return rc;
    lock = admin_lock(name);
    h = open_mapping(FILE_MAP_READ, w, &e);
    if (h == NULL && e == ERROR_ACCESS_DENIED)
        h = OpenFileMappingW(READ_CONTROL, FALSE, w);
    free(w);
    if (h == NULL) {
        e = GetLastError();
        admin_unlock(lock);
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ||
            e == ERROR_INVALID_HANDLE)
            return mmf__fail(MMF_ENOENT, (int)e);
        return mmf__win_fail(e);
    }
    info_init(out, name);
    rc = read_meta(name, &rec, &meta);
    if (rc == MMF_OK && meta != NULL) {
        wchar_t *p;
        CloseHandle(meta);
        out->kind = MMF_KIND_FILE_MAP;
        out->capacity = rec.capacity;
        snprintf(out->path, sizeof out->path, "%s", rec.path);
        if (mmf__win_wide(rec.path, 1, &p) == MMF_OK) {
            if (mmf__win_get_mode_path(p, &mode) == MMF_OK)
                out->mode = mode;
            free(p);
        }
    } else {
        rc = mmf__win_read_trailer(h, &total, &rec, &valid);
        out->kind = valid ? MMF_KIND_MAP : MMF_KIND_FOREIGN;
        out->capacity = rc != MMF_OK ? 0 : valid ? rec.capacity : total;
        if (mmf__win_get_mode(h, MMF__OBJ_MAP, &mode) == MMF_OK)
            out->mode = mode;
    }
    CloseHandle(h);
    admin_unlock(lock);
    return MMF_OK;
}

static int stat_mutex(const char *name, mmf_info *out)
{
    unsigned mode = 0;
    wchar_t *w;
    HANDLE h;
    DWORD e;
    int rc = internal_name(name, "mutex", &w);

    if (rc != MMF_OK)
        return rc;
    h = OpenMutexW(READ_CONTROL, FALSE, w);
    if (h == NULL && GetLastError() == ERROR_ACCESS_DENIED)
        h = OpenMutexW(SYNCHRONIZE, FALSE, w);
    e = GetLastError();
    free(w);
    if (h == NULL && e != ERROR_ACCESS_DENIED) {
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ||
            e == ERROR_INVALID_HANDLE)
            return mmf__fail(MMF_ENOENT, (int)e);
        return mmf__win_fail(e);
    }
    info_init(out, name);
    out->kind = MMF_KIND_MUTEX;
    if (h != NULL) {
        if (mmf__win_get_mode(h, MMF__OBJ_MUTEX, &mode) == MMF_OK)
            out->mode = mode;
        CloseHandle(h);
    }
    return MMF_OK;
}

int mmf__os_stat(const char *name, int kind, mmf_info *out)
{
    mmf_info tmp;
    int rc =
        kind == MMF_KIND_MUTEX ? stat_mutex(name, &tmp) : stat_map(name, &tmp);

    if (rc == MMF_OK)
        *out = tmp;
    return rc;
}

/* The native calls that enumerate an object directory, from ntdll (which
 * every process has loaded; mingw's default libraries do not link it). */
typedef struct {
    USHORT len, max;
    PWSTR buf;
} nt_string;
typedef struct {
    ULONG size;
    HANDLE root;
    nt_string *name;
    ULONG attributes;
    PVOID sd, qos;
} nt_attributes;
typedef struct {
    nt_string name, type;
} nt_dir_entry;
typedef LONG(NTAPI *nt_open_dir_fn)(HANDLE *, ACCESS_MASK, nt_attributes *);
typedef LONG(NTAPI *nt_query_dir_fn)(HANDLE, void *, ULONG, BOOLEAN, BOOLEAN,
                                     ULONG *, ULONG *);

#define NT_DIRECTORY_QUERY 1

/* Does the counted UTF-16 string s equal the ASCII string a? */
static int nt_is(const nt_string *s, const char *a)
{
    size_t n = strlen(a);

    if (s->len != n * sizeof(wchar_t))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s->buf[i] != (wchar_t)(unsigned char)a[i])
            return 0;
    return 1;
}

#define NT_MORE_ENTRIES 0x105L
#define NT_BUFFER_TOO_SMALL ((LONG)0xC0000023UL)

/* The objects a listing found, each once, by the name mmf_stat takes. */
typedef struct {
    char **names;
    unsigned char *mutex;
    size_t n, cap;
} name_set;

/* Adds a name: 1 when new, 0 when there already, -1 out of memory. */
static int set_add(name_set *s, const char *name, int mutex)
{
    char *copy;

    for (size_t i = 0; i < s->n; i++)
        if (s->mutex[i] == mutex && strcmp(s->names[i], name) == 0)
            return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        char **names = realloc(s->names, cap * sizeof *names);
        unsigned char *m;
        if (names == NULL)
            return -1;
        s->names = names;
        m = realloc(s->mutex, cap);
        if (m == NULL)
            return -1;
        s->mutex = m;
        s->cap = cap;
    }
    copy = malloc(strlen(name) + 1);
    if (copy == NULL)
        return -1;
    strcpy(copy, name);
    s->names[s->n] = copy;
    s->mutex[s->n] = (unsigned char)mutex;
    s->n++;
    return 1;
}

static void set_free(name_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->mutex);
}

/* Adds a directory entry if it is a section (a map, unless it is one of
 * libmmf's own "mmf/..." sections) or a libmmf mutex ("mmf/mutex/N") with
 * a valid name. As set_add; 0 for entries passed over. */
static int add_entry(name_set *set, const nt_dir_entry *e, const char *ns)
{
    wchar_t w[MAX_PATH + 1];
    char name[3 * MAX_PATH + 16];
    char *u;
    int mutex;

    if (e->name.len / sizeof(wchar_t) > MAX_PATH)
        return 0;
    memcpy(w, e->name.buf, e->name.len);
    w[e->name.len / sizeof(wchar_t)] = L'\0';
    u = mmf__win_utf8(w);
    if (u == NULL)
        return 0;
    mutex = nt_is(&e->type, "Mutant");
    if (mutex && strncmp(u, "mmf/mutex/", 10) == 0)
        snprintf(name, sizeof name, "%s%s", ns, u + 10);
    else if (!mutex && nt_is(&e->type, "Section") && strncmp(u, "mmf/", 4) != 0)
        snprintf(name, sizeof name, "%s%s", ns, u);
    else
        name[0] = '\0';
    free(u);
    if (name[0] == '\0' || mmf__check_name(name) != MMF_OK)
        return 0;
    return set_add(set, name, mutex);
}

/* Reads the whole directory in one call, which the kernel answers from one
 * state of it. MMF_OK, MMF_ENOTSUP where that call is not implemented
 * (wine), or MMF_ENOMEM. */
static int read_snapshot(HANDLE d, nt_query_dir_fn query_dir, const char *ns,
                         name_set *set)
{
    for (ULONG size = 65536; size <= (16u << 20); size *= 2) {
        nt_dir_entry *buf = malloc(size);
        ULONG pos = 0, got = 0;
        LONG st;
        int rc = MMF_OK;

        if (buf == NULL)
            return mmf__fail(MMF_ENOMEM, 0);
        st = query_dir(d, buf, size, FALSE, TRUE, &pos, &got);
        if (st == 0) {
            /* The array ends with an entry of zeros. */
            for (nt_dir_entry *e = buf;
                 (unsigned char *)(e + 1) <= (unsigned char *)buf + size &&
                 e->name.buf != NULL && rc == MMF_OK;
                 e++)
                if (add_entry(set, e, ns) < 0)
                    rc = mmf__fail(MMF_ENOMEM, 0);
        }
        free(buf);
        if (st == 0)
            return rc;
        if (st != NT_MORE_ENTRIES && st != NT_BUFFER_TOO_SMALL)
            return MMF_ENOTSUP;
    }
    return MMF_ENOTSUP;
}

/* Reads the directory an entry a call. The position counts entries, so
 * objects created or removed meanwhile can shift it: passes are repeated
 * (up to four) until one finds nothing new. */
static int read_by_entry(HANDLE d, nt_query_dir_fn query_dir, const char *ns,
                         name_set *set)
{
    union {
        nt_dir_entry e;
        unsigned char bytes[4096];
    } buf;

    for (int pass = 0; pass < 4; pass++) {
        ULONG pos = 0, got;
        int added = 0;

        for (int first = 1;; first = 0) {
            int r;
            LONG st = query_dir(d, &buf, sizeof buf, TRUE, first ? TRUE : FALSE,
                                &pos, &got);
            if (st != 0) /* STATUS_NO_MORE_ENTRIES, or a failure */
                break;
            r = add_entry(set, &buf.e, ns);
            if (r < 0)
                return mmf__fail(MMF_ENOMEM, 0);
            added += r;
        }
        if (pass > 0 && added == 0)
            break;
    }
    return MMF_OK;
}

/* Adds the objects of the directory `dir`, whose names are opened with
 * the prefix `ns`. */
static int list_dir(const wchar_t *dir, const char *ns, name_set *set)
{
    HMODULE nt = GetModuleHandleW(L"ntdll.dll");
    nt_open_dir_fn open_dir;
    nt_query_dir_fn query_dir;
    nt_string path;
    nt_attributes oa;
    HANDLE d;
    LONG st;
    int rc;

    if (nt == NULL)
        return mmf__fail(MMF_ENOTSUP, (int)GetLastError());
    open_dir = (nt_open_dir_fn)(void (*)(void))GetProcAddress(
        nt, "NtOpenDirectoryObject");
    query_dir = (nt_query_dir_fn)(void (*)(void))GetProcAddress(
        nt, "NtQueryDirectoryObject");
    if (open_dir == NULL || query_dir == NULL)
        return mmf__fail(MMF_ENOTSUP, ERROR_PROC_NOT_FOUND);
    path.buf = (PWSTR)dir;
    path.len = (USHORT)(wcslen(dir) * sizeof(wchar_t));
    path.max = path.len;
    memset(&oa, 0, sizeof oa);
    oa.size = sizeof oa;
    oa.name = &path;
    oa.attributes = 0x40; /* OBJ_CASE_INSENSITIVE */
    st = open_dir(&d, NT_DIRECTORY_QUERY, &oa);
    if (st < 0)
        return mmf__fail(MMF_EACCES, (int)st);
    rc = read_snapshot(d, query_dir, ns, set);
    if (rc == MMF_ENOTSUP)
        rc = read_by_entry(d, query_dir, ns, set);
    CloseHandle(d);
    return rc;
}

int mmf__os_list(int (*fn)(const mmf_info *info, void *ctx), void *ctx)
{
    name_set set = {NULL, NULL, 0, 0};
    DWORD session = 0;
    wchar_t dir[64];
    int rc = MMF_OK;

    /* Local\ names live in the session's directory, Global\ ones in the
     * machine's (the same one for session 0). The names are gathered
     * first, then described one by one; objects gone meanwhile are passed
     * over. */
    if (!ProcessIdToSessionId(GetCurrentProcessId(), &session))
        session = 0;
    if (session != 0) {
        swprintf(dir, sizeof dir / sizeof dir[0],
                 L"\\Sessions\\%lu\\BaseNamedObjects", session);
        rc = list_dir(dir, "", &set);
    }
    if (rc == MMF_OK)
        rc = list_dir(L"\\BaseNamedObjects", session ? "Global\\" : "", &set);
    for (size_t i = 0; rc == MMF_OK && i < set.n; i++) {
        mmf_info info;
        int r = set.mutex[i] ? stat_mutex(set.names[i], &info)
                             : stat_map(set.names[i], &info);
        if (r == MMF_OK && fn(&info, ctx) != 0)
            break;
    }
    set_free(&set);
    return rc;
}
