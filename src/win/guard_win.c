/*
 * The fault guard on Windows. When the storage behind a view fails (a
 * network file gone, a removable disk pulled, a file another system
 * truncated), touching it raises EXCEPTION_IN_PAGE_ERROR; wine reports the
 * same event as an access violation on a page that should be accessible.
 * A vectored exception handler looks the address up in a table of
 * libmmf's views; for one of them it replaces the whole view with
 * zero-filled memory of the same protection at the same address (Windows
 * cannot unmap part of a view), bumps the view's poisoned counter and
 * resumes the faulting instruction, which then reads zeros. Guarded calls
 * see the counter and return MMF_EIO; mmf__os_remap maps the section back
 * over an internal window of mmf_read/mmf_write.
 *
 * Between the unmap and the allocation another thread of the process could
 * take the address range; then the handler gives up and the exception goes
 * on as if libmmf were not there (the process dies as it would have).
 * Another thread touching the view while it is swapped gets an access
 * violation, which the handler retries once the swap is done.
 *
 * The table of views is src/guard.c's, shared with the POSIX backend.
 */
#include "sys_win.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>

static PVOID handler;
static DWORD tls_addr = TLS_OUT_OF_INDEXES, tls_gen = TLS_OUT_OF_INDEXES;
static INIT_ONCE install_once = INIT_ONCE_STATIC_INIT;
static DWORD install_error;

/* Would an access of `kind` (0 read, 1 write, 8 execute) to `a` succeed
 * as the page is mapped now? */
static int page_allows(uintptr_t a, ULONG_PTR kind)
{
    MEMORY_BASIC_INFORMATION mbi;
    DWORD p;

    if (VirtualQuery((void *)a, &mbi, sizeof mbi) != sizeof mbi ||
        mbi.State != MEM_COMMIT)
        return 0;
    p = mbi.Protect & 0xff;
    if (mbi.Protect & PAGE_GUARD)
        return 0;
    switch (kind) {
    case 1:
        return p == PAGE_READWRITE || p == PAGE_WRITECOPY ||
               p == PAGE_EXECUTE_READWRITE || p == PAGE_EXECUTE_WRITECOPY;
    case 8:
        return p == PAGE_EXECUTE || p == PAGE_EXECUTE_READ ||
               p == PAGE_EXECUTE_READWRITE || p == PAGE_EXECUTE_WRITECOPY;
    default:
        return p != PAGE_NOACCESS;
    }
}

/* Replaces entry e's view with zero memory. Table lock held. */
static int zero_fill(mmf__guard_entry *e)
{
    void *base = (void *)e->lo;
    size_t len = e->hi - e->lo;
    void *p;

    if (!UnmapViewOfFile(base))
        return 0;
    p = VirtualAlloc(base, len, MEM_RESERVE | MEM_COMMIT,
                     mmf__win_view_protect(e->view->head.access));
    if (p != base) {
        if (p != NULL)
            VirtualFree(p, 0, MEM_RELEASE);
        return 0;
    }
    e->zeroed = 1;
    e->gen++;
    return 1;
}

static LONG CALLBACK on_exception(EXCEPTION_POINTERS *ep)
{
    EXCEPTION_RECORD *r = ep->ExceptionRecord;
    DWORD code = r->ExceptionCode;
    mmf__guard_entry *e;
    uintptr_t a;
    ULONG_PTR kind;
    LONG verdict = EXCEPTION_CONTINUE_SEARCH;
    DWORD saved;

    if ((code != EXCEPTION_IN_PAGE_ERROR &&
         code != EXCEPTION_ACCESS_VIOLATION) ||
        r->NumberParameters < 2)
        return EXCEPTION_CONTINUE_SEARCH;
    kind = r->ExceptionInformation[0];
    a = (uintptr_t)r->ExceptionInformation[1];
    saved = GetLastError();
    mmf__guard_lock();
    e = mmf__guard_find(a);
    if (e == NULL)
        goto out;
    if (code == EXCEPTION_ACCESS_VIOLATION) {
        /* A real protection fault (a write to a read-only view): not
         * ours. */
        if (!page_allows(a, kind))
            goto out;
        /* Accessible now: the view was being swapped meanwhile, so
         * retry; or, the same fault again on a mapped page, wine's
         * report of an in-page error. */
        if (e->zeroed || (uintptr_t)TlsGetValue(tls_addr) != a ||
            (uintptr_t)TlsGetValue(tls_gen) != e->gen) {
            TlsSetValue(tls_addr, (void *)a);
            TlsSetValue(tls_gen, (void *)(uintptr_t)e->gen);
            verdict = EXCEPTION_CONTINUE_EXECUTION;
            goto out;
        }
    }
    TlsSetValue(tls_addr, NULL);
    if (e->zeroed || zero_fill(e)) {
        if (e->view->head.poisoned < INT_MAX)
            e->view->head.poisoned++;
        verdict = EXCEPTION_CONTINUE_EXECUTION;
    }
out:
    mmf__guard_unlock();
    SetLastError(saved);
    return verdict;
}

static BOOL CALLBACK install(PINIT_ONCE once, PVOID arg, PVOID *ctx)
{
    (void)once;
    (void)arg;
    (void)ctx;
    tls_addr = TlsAlloc();
    tls_gen = TlsAlloc();
    if (tls_addr == TLS_OUT_OF_INDEXES || tls_gen == TLS_OUT_OF_INDEXES) {
        install_error = GetLastError();
        return TRUE;
    }
    /* First in the chain: faults in our views are ours to handle. */
    handler = AddVectoredExceptionHandler(1, on_exception);
    if (handler == NULL)
        install_error = GetLastError() ? GetLastError() : ERROR_OUTOFMEMORY;
    return TRUE;
}

int mmf__os_guard_add(mmf_view *v)
{
    size_t page = mmf__os_page_size();

    InitOnceExecuteOnce(&install_once, install, NULL, NULL);
    if (install_error)
        return mmf__fail(MMF_ENOMEM, (int)install_error);
    /* The OS maps whole pages. */
    return mmf__guard_insert(v, (uintptr_t)v->base,
                             ((uintptr_t)v->base + v->map_len + page - 1) &
                                 ~(uintptr_t)(page - 1));
}

void mmf__os_guard_remove(mmf_view *v)
{
    mmf__guard_erase(v);
}

int mmf__win_guard_zeroed(const void *addr)
{
    mmf__guard_entry *e;
    int zeroed;

    mmf__guard_lock();
    e = mmf__guard_find((uintptr_t)addr);
    zeroed = e != NULL && e->zeroed;
    mmf__guard_unlock();
    return zeroed;
}

int mmf__os_write_through(mmf_file *f, uint64_t offset, const void *src,
                          size_t n)
{
    /* Windows keeps mapped and file I/O coherent too, but the mapping is
     * the measured path there: let mmf_write use it. */
    (void)f, (void)offset, (void)src, (void)n;
    return MMF_ENOTSUP;
}

int mmf__os_remap(mmf_view *v)
{
    HANDLE s = mmf__win_section_of(v->file);
    uint64_t off = v->offset - v->ptr_off;
    mmf__guard_entry *e;
    DWORD rights, err = 0;
    void *p;
    int rc = MMF_OK;

    switch (v->head.access) {
    case MMF_ACCESS_READ:
        rights = FILE_MAP_READ;
        break;
    case MMF_ACCESS_COPY_ON_WRITE:
        rights = FILE_MAP_COPY;
        break;
    default:
        rights = FILE_MAP_WRITE;
        break;
    }
    mmf__guard_lock();
    e = mmf__guard_entry_of(v);
    if (e == NULL || !e->zeroed)
        goto out;
    /* Swap the zero memory for the section again, at the same address;
     * threads touching it meanwhile wait in the handler. */
    VirtualFree(v->base, 0, MEM_RELEASE);
    p = mmf__win_MapViewOfFileEx(s, rights, (DWORD)(off >> 32), (DWORD)off,
                                 v->map_len, v->base);
    if (p != v->base) {
        err = GetLastError();
        if (p != NULL)
            UnmapViewOfFile(p);
        /* Keep the range usable (zeros) for anyone still copying. */
        (void)VirtualAlloc(v->base, e->hi - e->lo, MEM_RESERVE | MEM_COMMIT,
                           mmf__win_view_protect(v->head.access));
        rc = mmf__win_fail(err ? err : ERROR_INVALID_ADDRESS);
        goto out;
    }
    e->zeroed = 0;
    e->gen++;
out:
    mmf__guard_unlock();
    if (rc == MMF_OK && v->file->kind == MMF__KIND_SHM)
        rc = mmf__win_commit_view(s, v->base, v->map_len, off, v->head.access);
    return rc;
}

#ifdef MMF_BUILDING_DLL
/* The handler lives in this DLL's code: remove it before the DLL goes. */
BOOL WINAPI DllMain(HINSTANCE dll, DWORD reason, LPVOID reserved);

BOOL WINAPI DllMain(HINSTANCE dll, DWORD reason, LPVOID reserved)
{
    (void)dll;
    if (reason == DLL_PROCESS_DETACH && reserved == NULL && handler != NULL) {
        RemoveVectoredExceptionHandler(handler);
        handler = NULL;
    }
    return TRUE;
}
#endif
