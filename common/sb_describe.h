/* `APP --describe`: what an app is, as JSON on stdout, so that the front end
 * (the sweep planner, `stagebench run`, the report) learns the apps, their
 * options and their headline phases from the binaries themselves instead of
 * keeping copies (docs/architecture.md; the format is in docs/apps.md,
 * "--describe").
 */
#ifndef SB_DESCRIBE_H
#define SB_DESCRIBE_H

#include "sb_app.h"

#include <stdio.h>

/* Writes app's description to f: its name, its name in `stagebench
 * run/sweep`, its role in an MPMD pair, whether it uses a database, its
 * headline phases and figure-of-merit unit, and every option of opts[0..n)
 * (the app's own and the driver's) with kind, default, help, choices,
 * bounds and, for the options a sweep varies, their short name in case
 * names. Returns SB_OK, or SB_ERR when an entry of app->sweep_params names
 * no option or has no short name (a mistake in the app's table). */
int sb_describe_app(FILE *f, const sb_app_t *app, const sb_opt_t *opts, int n);

#endif
