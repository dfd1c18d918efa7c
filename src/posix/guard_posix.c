/*
 * The fault guard. A view's pages past the end of a file that shrank raise
 * SIGBUS when touched. The library keeps a table of its mappings; its
 * SIGBUS handler, for a fault inside one, maps zero-filled memory over the
 * rest of that view from the faulting page on, bumps the view's poisoned
 * counter and returns, so the access resumes and reads zeros. Covering the
 * whole rest of the view at once (a file shrinks from its end) keeps one
 * extra mapping per view however many pages are touched afterwards.
 * Faults elsewhere go to the previous handler, or get the default action,
 * as they would have without libmmf.
 *
 * The table is guarded by a spinlock, since a signal handler cannot take a
 * mutex. The handler may spin while another thread edits the table; no
 * thread touches a view's memory while holding the lock, so it cannot
 * fault there. fork() takes the lock first, so a child never inherits it
 * held.
 */
#define _GNU_SOURCE
#include "sys_posix.h"

#include <limits.h>
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
        return PROT_READ;
    case MMF_ACCESS_READ_EXECUTE:
        return PROT_READ | PROT_EXEC;
    case MMF_ACCESS_READ_WRITE_EXECUTE:
        return PROT_READ | PROT_WRITE | PROT_EXEC;
    default:
        return PROT_READ | PROT_WRITE;
    }
}

/* Is this SIGBUS one that returning from the handler will not raise again
 * (sent by a process, or an asynchronous memory error report)? */
static int not_refaulting(const siginfo_t *si)
{
#ifdef BUS_MCEERR_AO
    if (si->si_code == BUS_MCEERR_AO)
        return 1;
#endif
    return si->si_code <= 0;
}

/* Hands a SIGBUS that is not ours to whoever handled it before. */
static void chain(int sig, siginfo_t *si, void *uc)
{
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, si, uc);
        return;
    }
    if (previous.sa_handler == SIG_IGN) {
        /* Ignored before libmmf: a sent signal stays ignored; a real
         * fault would kill the process anyway (the kernel cannot ignore
         * it), so let it. */
        if (!not_refaulting(si))
            signal(SIGBUS, SIG_DFL);
        return;
    }
    if (previous.sa_handler != SIG_DFL) {
        previous.sa_handler(sig);
        return;
    }
    /* The default action: terminate. A fault raises it again on return;
     * anything else is raised here. */
    signal(SIGBUS, SIG_DFL);
    if (not_refaulting(si))
        raise(SIGBUS);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;

    if (!not_refaulting(si)) {
        uintptr_t a = (uintptr_t)si->si_addr;
        size_t page = mmf__os_page_size();
        mmf_view *hit = NULL;
        void *p = MAP_FAILED;

        lock_table();
        for (size_t i = 0; i < table_len; i++) {
            if (a >= table[i].lo && a < table[i].hi) {
                uintptr_t at = a & ~(uintptr_t)(page - 1);
                hit = table[i].view;
                p = mmap((void *)at, table[i].hi - at, prot_of_view(hit),
                         MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (hit->head.poisoned < INT_MAX)
                    hit->head.poisoned++;
                break;
            }
        }
        unlock_table();
        errno = saved;
        if (p != MAP_FAILED)
            return;
    }
    errno = saved;
    chain(sig, si, uc);
}

static void before_fork(void)
{
    lock_table();
}

static void after_fork(void)
{
    unlock_table();
}

static void install(void)
{
    struct sigaction sa;

    /* Record the previous disposition before ours can run. */
    if (sigaction(SIGBUS, NULL, &previous) != 0) {
        install_error = errno;
        return;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) != 0)
        install_error = errno;
    else
        (void)pthread_atfork(before_fork, after_fork, after_fork);
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
    v->guard_index = table_len++;
    unlock_table();
    return MMF_OK;
}

void mmf__os_guard_remove(mmf_view *v)
{
    lock_table();
    if (v->guard_index < table_len && table[v->guard_index].view == v) {
        /* Move the last entry into the hole: O(1). */
        table[v->guard_index] = table[--table_len];
        if (v->guard_index < table_len)
            table[v->guard_index].view->guard_index = v->guard_index;
    }
    unlock_table();
}
