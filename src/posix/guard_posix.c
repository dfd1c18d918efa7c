/*
 * The fault guard. A view's pages past the end of a file that shrank raise
 * SIGBUS when touched. The library keeps a table of its mappings; its
 * SIGBUS handler, for a fault inside one, maps a zero-filled page over the
 * faulting page, marks the view poisoned and returns, so the access resumes
 * and reads zeros. Faults elsewhere go to the previous handler, or kill the
 * process as they would have without libmmf.
 *
 * The table is guarded by a spinlock, since a signal handler cannot take a
 * mutex. The handler may spin while another thread edits the table; no
 * thread touches a view's memory while holding the lock, so it cannot
 * fault there.
 */
#define _GNU_SOURCE
#include "sys_posix.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard_entry {
    uintptr_t lo, hi;
    mmf_view *view;
};

static atomic_flag table_lock = ATOMIC_FLAG_INIT;
static struct guard_entry *table;
static size_t table_len, table_cap;
static struct sigaction previous;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_error;

static void lock_table(void)
{
    while (atomic_flag_test_and_set_explicit(&table_lock, memory_order_acquire))
        ;
}

static void unlock_table(void)
{
    atomic_flag_clear_explicit(&table_lock, memory_order_release);
}

static int prot_of_view(const mmf_view *v)
{
    switch (v->head.access) {
    case MMF_ACCESS_READ:
    case MMF_ACCESS_READ_EXECUTE:
        return PROT_READ;
    default:
        return PROT_READ | PROT_WRITE;
    }
}

/* Hands a fault that is not ours to whoever handled SIGBUS before. */
static void chain(int sig, siginfo_t *si, void *uc)
{
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, si, uc);
        return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
        return;
    }
    /* Default action: restore it; a hardware fault re-raises on return,
     * a sent signal is raised again here. */
    signal(SIGBUS, SIG_DFL);
    if (si->si_code <= 0)
        raise(SIGBUS);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;

    if (si->si_code > 0) { /* raised by a fault, not sent by kill() */
        uintptr_t a = (uintptr_t)si->si_addr;
        size_t page = mmf__os_page_size();
        mmf_view *hit = NULL;
        int prot = 0;

        lock_table();
        for (size_t i = 0; i < table_len; i++) {
            if (a >= table[i].lo && a < table[i].hi) {
                hit = table[i].view;
                prot = prot_of_view(hit);
                break;
            }
        }
        if (hit != NULL) {
            void *at = (void *)(a & ~(uintptr_t)(page - 1));
            void *p = mmap(at, page, prot,
                           MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            hit->head.poisoned = 1;
            unlock_table();
            errno = saved;
            if (p != MAP_FAILED)
                return;
        } else {
            unlock_table();
        }
    }
    errno = saved;
    chain(sig, si, uc);
}

static void install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &previous) != 0)
        install_error = errno;
}

int mmf__os_guard_add(mmf_view *v)
{
    pthread_once(&install_once, install);
    if (install_error)
        return mmf__fail(MMF_ENOMEM, install_error);
    lock_table();
    if (table_len == table_cap) {
        /* Growing under the spinlock is fine: the handler only reads. */
        size_t cap = table_cap ? table_cap * 2 : 64;
        struct guard_entry *t = realloc(table, cap * sizeof *t);
        if (t == NULL) {
            unlock_table();
            return mmf__fail(MMF_ENOMEM, 0);
        }
        table = t;
        table_cap = cap;
    }
    table[table_len].lo = (uintptr_t)v->base;
    table[table_len].hi = (uintptr_t)v->base + v->map_len;
    table[table_len].view = v;
    table_len++;
    unlock_table();
    return MMF_OK;
}

void mmf__os_guard_remove(mmf_view *v)
{
    lock_table();
    for (size_t i = 0; i < table_len; i++) {
        if (table[i].view == v) {
            table[i] = table[--table_len];
            break;
        }
    }
    unlock_table();
}
