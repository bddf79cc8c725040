/* The report's failures and duels sections (placeholders). */
#include "report_int.h"

int
report_failures(struct report *r, char **cause)
{
	(void)cause;
	report_none(r, "not written yet");
	return 0;
}

int
report_duels(struct report *r, char **cause)
{
	(void)cause;
	report_none(r, "not written yet");
	return 0;
}
