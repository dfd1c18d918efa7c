/*
 * Map-level I/O: mmf_read / mmf_write / mmf_flush at any 64-bit offset.
 *
 * The map is cut into fixed windows (1 GiB on 64-bit). A window is an
 * internal view, mapped on first use and kept until mmf_close, found
 * through a three-level table of atomic pointers allocated as it is used:
 * the fast path is three acquire loads, no system call and no lock.
 * Creating a window takes a lock.
 *
 * A fault in a window (the file shrank) makes the guard bump the view's
 * poisoned counter and map zeros over the rest of the window. A call that
 * sees the counter change while it copies returns MMF_EIO; the next call
 * finds the window out of date and maps the file over it again in place,
 * so bytes still backed stay readable and no mappings pile up.
 */
#include "mmf_internal.h"

#include <stdlib.h>
#include <string.h>

#if UINTPTR_MAX > 0xffffffffu
#define WIN_SHIFT 30 /* 1 GiB windows */
#else
#define WIN_SHIFT 25 /* 32 MiB windows */
#endif
#define LEVEL_BITS 12
#define LEVEL_SIZE ((size_t)1 << LEVEL_BITS)
#define LEVEL_MASK (LEVEL_SIZE - 1)
#define WIN_SIZE ((uint64_t)1 << WIN_SHIFT)
#define WRITE_THROUGH_MIN ((size_t)256 << 10)

typedef _Atomic(void *) slot;

struct mmf__window {
    mmf_view *view;
    int repaired; /* the view's poisoned count when last mapped */
};

int mmf__io_init(mmf_file *f)
{
    uint64_t nwin = ((f->capacity - 1) >> WIN_SHIFT) + 1;
    size_t ntop = (size_t)(((nwin - 1) >> (2 * LEVEL_BITS)) + 1);
    int rc = mmf__os_lock_init(&f->win_lock);

    if (rc != MMF_OK)
        return rc;
    f->win_top = calloc(ntop, sizeof *f->win_top);
    if (f->win_top == NULL) {
        mmf__os_lock_destroy(&f->win_lock);
        return mmf__fail(MMF_ENOMEM, 0);
    }
    f->win_top_count = ntop;
    return MMF_OK;
}

static void window_free(struct mmf__window *w)
{
    mmf_view *v = w->view;

    /* The window's reference on f is not the last one (the user's handle
     * is still held while windows are torn down), so a plain unmap and
     * decrement suffice. */
    mmf__os_guard_remove(v);
    mmf__os_unmap(v->base, v->map_len);
    atomic_fetch_sub_explicit(&v->file->refs, 1, memory_order_relaxed);
    free(v);
    free(w);
}

void mmf__io_teardown(mmf_file *f)
{
    for (size_t t = 0; t < f->win_top_count; t++) {
        slot *mid = atomic_load(&f->win_top[t]);
        if (mid == NULL)
            continue;
        for (size_t m = 0; m < LEVEL_SIZE; m++) {
            slot *leaf = atomic_load(&mid[m]);
            if (leaf == NULL)
                continue;
            for (size_t i = 0; i < LEVEL_SIZE; i++) {
                struct mmf__window *w = atomic_load(&leaf[i]);
                if (w)
                    window_free(w);
            }
            free(leaf);
        }
        free(mid);
    }
    free(f->win_top);
    f->win_top = NULL;
    f->win_top_count = 0;
    mmf__os_lock_destroy(&f->win_lock);
}

/* The access internal windows are mapped with. */
static int window_access(int map_access)
{
    switch (map_access) {
    case MMF_ACCESS_READ_WRITE:
    case MMF_ACCESS_WRITE:
    case MMF_ACCESS_READ_WRITE_EXECUTE:
        return MMF_ACCESS_READ_WRITE;
    default: /* COPY_ON_WRITE maps read the object itself */
        return MMF_ACCESS_READ;
    }
}

/* Finds (or, `make`, allocates) the next level's table under `s`. */
static slot *level(slot *s, int make)
{
    slot *next = atomic_load_explicit(s, memory_order_acquire);

    if (next == NULL && make) {
        next = calloc(LEVEL_SIZE, sizeof *next);
        if (next != NULL)
            atomic_store_explicit(s, next, memory_order_release);
    }
    return next;
}

/* Slow path, under the lock: maps window `idx`, or maps the file again
 * over a window that met a fault. */
static int window_make(mmf_file *f, uint64_t idx, struct mmf__window **out)
{
    uint64_t off = idx << WIN_SHIFT;
    struct mmf__window *w;
    slot *mid, *leaf;
    int rc = MMF_OK;

    mmf__os_lock(&f->win_lock);
    mid = level(&f->win_top[idx >> (2 * LEVEL_BITS)], 1);
    leaf = mid ? level(&mid[(idx >> LEVEL_BITS) & LEVEL_MASK], 1) : NULL;
    if (leaf == NULL) {
        rc = mmf__fail(MMF_ENOMEM, 0);
        goto out;
    }
    w = atomic_load(&leaf[idx & LEVEL_MASK]);
    if (w != NULL) {
        int seen = w->view->head.poisoned;
        if (seen != w->repaired) {
            rc = mmf__os_remap(w->view);
            if (rc == MMF_OK)
                w->repaired = seen;
        }
        *out = w;
        goto out;
    }
    w = calloc(1, sizeof *w);
    if (w == NULL) {
        rc = mmf__fail(MMF_ENOMEM, 0);
        goto out;
    }
    rc = mmf__view_map(
        f, off, f->capacity - off < WIN_SIZE ? f->capacity - off : WIN_SIZE,
        window_access(f->access), &w->view);
    if (rc != MMF_OK) {
        free(w);
        goto out;
    }
    atomic_store_explicit(&leaf[idx & LEVEL_MASK], w, memory_order_release);
    *out = w;
out:
    mmf__os_unlock(&f->win_lock);
    return rc;
}

static inline int window_get(mmf_file *f, uint64_t idx,
                             struct mmf__window **out)
{
    slot *mid = level(&f->win_top[idx >> (2 * LEVEL_BITS)], 0);
    slot *leaf = mid ? level(&mid[(idx >> LEVEL_BITS) & LEVEL_MASK], 0) : NULL;

    if (leaf != NULL) {
        struct mmf__window *w =
            atomic_load_explicit(&leaf[idx & LEVEL_MASK], memory_order_acquire);
        if (w != NULL && w->view->head.poisoned == w->repaired) {
            *out = w;
            return MMF_OK;
        }
    }
    return window_make(f, idx, out);
}

/* Copies between the map and a buffer, window by window. */
static int transfer(mmf_file *f, uint64_t offset, unsigned char *buf, size_t n,
                    int writing)
{
    while (n > 0) {
        uint64_t in_win = offset & (WIN_SIZE - 1);
        uint64_t room = WIN_SIZE - in_win;
        size_t k = room < n ? (size_t)room : n;
        struct mmf__window *w = NULL;
        mmf_view *v;
        int before, rc = window_get(f, offset >> WIN_SHIFT, &w);

        if (rc != MMF_OK)
            return rc;
        v = w->view;
        before = v->head.poisoned;
        MMF__BARRIER();
        if (writing)
            memcpy(v->head.data + in_win, buf, k);
        else
            memcpy(buf, v->head.data + in_win, k);
        MMF__BARRIER();
        if (v->head.poisoned != before)
            return mmf__fail(MMF_EIO, 0);
        offset += k;
        buf += k;
        n -= k;
    }
    return MMF_OK;
}

int mmf_read(mmf_file *f, uint64_t offset, void *dst, size_t n)
{
    if (f == NULL || (dst == NULL && n > 0))
        return mmf__fail(MMF_EINVAL, 0);
    if (offset > f->capacity || f->capacity - offset < n)
        return mmf__fail(MMF_ERANGE, 0);
    if (!mmf__access_can_read(f->access))
        return mmf__fail(MMF_EACCES, 0);
    if (n == 0)
        return MMF_OK;
    return transfer(f, offset, dst, n, 0);
}

int mmf_write(mmf_file *f, uint64_t offset, const void *src, size_t n)
{
    if (f == NULL || (src == NULL && n > 0))
        return mmf__fail(MMF_EINVAL, 0);
    if (offset > f->capacity || f->capacity - offset < n)
        return mmf__fail(MMF_ERANGE, 0);
    if (!mmf__access_can_write(f->access) ||
        f->access == MMF_ACCESS_COPY_ON_WRITE)
        return mmf__fail(MMF_EACCES, 0);
    if (n == 0)
        return MMF_OK;
    /* Large writes to a file go through its descriptor: the same page
     * cache as every view, without a page fault per page. */
    if (f->kind == MMF__KIND_FILE && n >= WRITE_THROUGH_MIN) {
        int rc = mmf__os_write_through(f, offset, src, n);
        if (rc != MMF_ENOTSUP)
            return rc;
    }
    /* A delay-allocated shared-memory map commits what is written, so that
     * a full tmpfs is MMF_ENOSPC rather than a fault. */
    if (f->kind == MMF__KIND_SHM && (f->flags & MMF_OPT_DELAY_ALLOCATE)) {
        int rc = mmf__os_commit(f->handle, offset, n);
        if (rc != MMF_OK)
            return rc;
    }
    return transfer(f, offset, (unsigned char *)(uintptr_t)src, n, 1);
}

int mmf_flush(mmf_file *f, uint64_t offset, uint64_t len, unsigned flags)
{
    if (f == NULL || (flags != MMF_FLUSH_SYNC && flags != MMF_FLUSH_ASYNC &&
                      flags != MMF_FLUSH_DURABLE))
        return mmf__fail(MMF_EINVAL, 0);
    if (offset > f->capacity)
        return mmf__fail(MMF_ERANGE, 0);
    if (len == 0)
        len = f->capacity - offset;
    else if (len > f->capacity - offset)
        return mmf__fail(MMF_ERANGE, 0);
    if (f->kind == MMF__KIND_SHM || f->access == MMF_ACCESS_COPY_ON_WRITE ||
        len == 0)
        return MMF_OK;
    return mmf__os_flush_range(f, offset, len, flags);
}
