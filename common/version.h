/* The project's version, shown by -V and written into stream headers. */
#ifndef CDC_VERSION_H
#define CDC_VERSION_H

#define CDC_VERSION "0.1.0"

#endif
