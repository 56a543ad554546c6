/* The files source (files.c): binlog files through the decoder. */
#ifndef B2A_FILES_H
#define B2A_FILES_H

#include "binlog.h"

/* Decodes file path into d, honouring o's start position (first file) and
 * stop position (last file) and its start and stop times. Returns an exit
 * code, 0 to go on to the next file; *stopped is set when a stop position,
 * a stop time or a signal ends the run. */
int b2a_file_decode(struct b2a_decoder *d, const char *path, int first,
    int last, const struct b2a_options *o, int *stopped);

#endif
