/* Levelled logging to stderr, prefixed with the MPI rank.
 *
 * Levels, most to least severe: error, warn, info (default), debug, trace.
 * Messages above the threshold cost one branch and no formatting.
 */
#ifndef SB_LOG_H
#define SB_LOG_H

typedef enum {
  SB_LOG_ERROR = 0,
  SB_LOG_WARN,
  SB_LOG_INFO,
  SB_LOG_DEBUG,
  SB_LOG_TRACE
} sb_log_level_t;

/* Sets the rank shown in every line and the threshold. */
void sb_log_init(int rank, sb_log_level_t level);

/* Parses "error|warn|info|debug|trace" into *level. Returns 0, or -1 for an
 * unknown name. */
int sb_log_parse_level(const char *name, sb_log_level_t *level);

/* The name of a level ("info"). */
const char *sb_log_level_name(sb_log_level_t level);

/* The threshold in effect. */
sb_log_level_t sb_log_level(void);

/* Writes one line (a newline is added) if level is at or above threshold. */
void sb_log(sb_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define SB_LOG_ERRORF(...) sb_log(SB_LOG_ERROR, __VA_ARGS__)
#define SB_LOG_WARNF(...) sb_log(SB_LOG_WARN, __VA_ARGS__)
#define SB_LOG_INFOF(...) sb_log(SB_LOG_INFO, __VA_ARGS__)
#define SB_LOG_DEBUGF(...) sb_log(SB_LOG_DEBUG, __VA_ARGS__)
#define SB_LOG_TRACEF(...) sb_log(SB_LOG_TRACE, __VA_ARGS__)

#endif
