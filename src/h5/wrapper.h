/* Headers bindgen reads: the public API plus the developer headers a VFD, a VOL connector
 * and a dynamically loaded plugin need. Never a private (H5*pkg.h / H5*private.h) header. */
#include <hdf5.h>
#include <H5FDdevelop.h>
#include <H5VLconnector.h>
#include <H5PLextern.h>
#include <H5VLconnector_passthru.h>
