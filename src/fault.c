/* Fault injection: the armed faults and the call counters (see fault.h). */
#include "fault.h"

#ifdef MMF_FAULT_INJECTION
#include <stdatomic.h>

static struct {
    atomic_int err, skip, count, calls;
} faults[MMF__FAULT_MAX];

static int valid_op(int op)
{
    return op >= 0 && op < MMF__FAULT_MAX;
}

void mmf__fault_set(int op, int err, int skip, int count)
{
    if (!valid_op(op))
        return;
    atomic_store(&faults[op].skip, skip);
    atomic_store(&faults[op].count, count);
    atomic_store(&faults[op].err, err);
}

void mmf__fault_clear(void)
{
    for (int i = 0; i < MMF__FAULT_MAX; i++) {
        atomic_store(&faults[i].err, 0);
        atomic_store(&faults[i].calls, 0);
    }
}

int mmf__fault_calls(int op)
{
    return valid_op(op) ? atomic_load(&faults[op].calls) : 0;
}

int mmf__fault_next(int op)
{
    int err;

    if (!valid_op(op))
        return 0;
    atomic_fetch_add(&faults[op].calls, 1);
    err = atomic_load(&faults[op].err);
    if (err == 0)
        return 0;
    if (atomic_load(&faults[op].skip) > 0) {
        atomic_fetch_sub(&faults[op].skip, 1);
        return 0;
    }
    if (atomic_load(&faults[op].count) == 0)
        return 0;
    if (atomic_load(&faults[op].count) > 0)
        atomic_fetch_sub(&faults[op].count, 1);
    return err;
}
#else
/* Shipped builds have no fault injection; ISO C wants a translation unit
 * to declare something all the same. */
typedef int mmf__fault_none;
#endif
