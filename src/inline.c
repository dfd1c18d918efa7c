/* The one out-of-line, exported copy of each typed accessor that mmf.h
 * defines inline, for bindings that call them by symbol. */
#define MMF_INLINE_EXTERN
#include "mmf.h"
