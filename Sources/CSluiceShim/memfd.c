#define _GNU_SOURCE
#include "CSluiceShim.h"
#include <sys/mman.h>
#include <fcntl.h>

int sluice_memfd_create(const char *name, unsigned int flags) { return memfd_create(name, flags); }
int sluice_add_seals(int fd, int seals) { return fcntl(fd, F_ADD_SEALS, seals); }
int sluice_get_seals(int fd) { return fcntl(fd, F_GET_SEALS); }
