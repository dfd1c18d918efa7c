/*
 * Fault injection for tests, the part both backends share: arming and
 * counting. Each backend numbers the OS calls it wraps in a header of its
 * own (posix/fault_posix.h, win/fault_win.h), and each wrapper first asks
 * MMF__FAULT(op); a non-zero answer is that call's error (errno, or a
 * GetLastError() code), returned without calling the OS. Tests arm a fault
 * with mmf__fault_set. Only builds with MMF_FAULT_INJECTION have it: in the
 * others MMF__FAULT(op) is the constant 0, and the wrappers cost nothing.
 */
#ifndef MMF_FAULT_H
#define MMF_FAULT_H

/* More than any backend wraps (each checks its count against it). */
#define MMF__FAULT_MAX 32

#ifdef MMF_FAULT_INJECTION
/* Arms a fault: the calls of `op` after the first `skip` ones fail with
 * `err`, `count` times (-1: every time). err 0 disarms. */
void mmf__fault_set(int op, int err, int skip, int count);
/* Disarms every fault. */
void mmf__fault_clear(void);
/* How many times `op` was called (injected or not) since the last clear. */
int mmf__fault_calls(int op);
int mmf__fault_next(int op);
#define MMF__FAULT(op) mmf__fault_next(op)
#else
#define MMF__FAULT(op) 0
#endif

#endif
