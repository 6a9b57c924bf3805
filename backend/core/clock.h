/* clock.h — the two clocks cohort uses: wall time for event stamps, monotonic for intervals. */
#ifndef COHORT_CLOCK_H
#define COHORT_CLOCK_H

#include <stdint.h>

int64_t clock_wall_us(void);
int64_t clock_mono_us(void);

#endif
