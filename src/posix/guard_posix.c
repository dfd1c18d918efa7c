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
 * The table of mappings is src/guard.c's. fork() takes its lock first, so
 * a child never inherits it held.
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

static struct sigaction previous;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_error;

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

        mmf__guard_entry *e;

        mmf__guard_lock();
        e = mmf__guard_find(a);
        if (e != NULL) {
            uintptr_t at = a & ~(uintptr_t)(page - 1);
            hit = e->view;
            p = mmap((void *)at, e->hi - at, prot_of_view(hit),
                     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (hit->head.poisoned < INT_MAX)
                hit->head.poisoned++;
        }
        mmf__guard_unlock();
        errno = saved;
        if (p != MAP_FAILED)
            return;
    }
    errno = saved;
    chain(sig, si, uc);
}

static void before_fork(void)
{
    mmf__guard_lock();
}

static void after_fork(void)
{
    mmf__guard_unlock();
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
    return mmf__guard_insert(v, (uintptr_t)v->base,
                             (uintptr_t)v->base + v->map_len);
}

void mmf__os_guard_remove(mmf_view *v)
{
    mmf__guard_erase(v);
}
