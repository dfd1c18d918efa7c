/*
 * The table of libmmf's mappings that the fault guards of both backends
 * search from their fault handlers (a SIGBUS handler on POSIX, a vectored
 * exception handler on Windows). Portable C11.
 *
 * A handler cannot take a mutex, so the table is guarded by a spinlock.
 * The handler may spin while another thread edits the table; no thread
 * touches a view's memory while holding the lock, so a handler can never
 * wait for its own thread.
 */
#include "mmf_internal.h"

#include <stdlib.h>

static atomic_flag table_lock = ATOMIC_FLAG_INIT;
static mmf__guard_entry *table;
static size_t table_len, table_cap;

void mmf__guard_lock(void)
{
    while (atomic_flag_test_and_set_explicit(&table_lock, memory_order_acquire))
        ;
}

void mmf__guard_unlock(void)
{
    atomic_flag_clear_explicit(&table_lock, memory_order_release);
}

mmf__guard_entry *mmf__guard_find(uintptr_t addr)
{
    for (size_t i = 0; i < table_len; i++)
        if (addr >= table[i].lo && addr < table[i].hi)
            return &table[i];
    return NULL;
}

mmf__guard_entry *mmf__guard_entry_of(const mmf_view *v)
{
    if (v->guard_index < table_len && table[v->guard_index].view == v)
        return &table[v->guard_index];
    return NULL;
}

int mmf__guard_insert(mmf_view *v, uintptr_t lo, uintptr_t hi)
{
    mmf__guard_lock();
    if (table_len == table_cap) {
        /* Growing under the spinlock is fine: handlers only read. */
        size_t cap = table_cap ? table_cap * 2 : 64;
        mmf__guard_entry *t = realloc(table, cap * sizeof *t);
        if (t == NULL) {
            mmf__guard_unlock();
            return mmf__fail(MMF_ENOMEM, 0);
        }
        table = t;
        table_cap = cap;
    }
    table[table_len].lo = lo;
    table[table_len].hi = hi;
    table[table_len].view = v;
    table[table_len].zeroed = 0;
    table[table_len].gen = 0;
    v->guard_index = table_len++;
    mmf__guard_unlock();
    return MMF_OK;
}

void mmf__guard_erase(mmf_view *v)
{
    mmf__guard_lock();
    if (mmf__guard_entry_of(v) != NULL) {
        /* Move the last entry into the hole: O(1). */
        table[v->guard_index] = table[--table_len];
        if (v->guard_index < table_len)
            table[v->guard_index].view->guard_index = v->guard_index;
    }
    mmf__guard_unlock();
}
