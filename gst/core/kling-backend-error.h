/* gst-kling: the inference backend's error domain
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Its own header so that code which only reports or matches backend errors
 * (the manifest and archive checks, the elements, the libtorch module)
 * needs nothing else of the backend API.  kling-backend.h includes it.
 */
#ifndef __KLING_BACKEND_ERROR_H__
#define __KLING_BACKEND_ERROR_H__

#include <glib.h>

G_BEGIN_DECLS

#define KLING_BACKEND_ERROR (kling_backend_error_quark ())
GQuark kling_backend_error_quark (void);

/**
 * KlingBackendError:
 * @KLING_BACKEND_ERROR_NOT_FOUND: the file or the backend module is missing
 * @KLING_BACKEND_ERROR_INVALID_MODEL: not a loadable model package (archive,
 *   manifest or a limit the manifest checker enforces)
 * @KLING_BACKEND_ERROR_NO_METHOD: the model lacks a method
 * @KLING_BACKEND_ERROR_DEVICE: the device is not available
 * @KLING_BACKEND_ERROR_INVALID_ARGUMENT: a bad tensor or option
 * @KLING_BACKEND_ERROR_RUNTIME: the model raised
 * @KLING_BACKEND_ERROR_OUTPUT: an output is not what the caller needs
 */
typedef enum
{
  KLING_BACKEND_ERROR_NOT_FOUND,
  KLING_BACKEND_ERROR_INVALID_MODEL,
  KLING_BACKEND_ERROR_NO_METHOD,
  KLING_BACKEND_ERROR_DEVICE,
  KLING_BACKEND_ERROR_INVALID_ARGUMENT,
  KLING_BACKEND_ERROR_RUNTIME,
  KLING_BACKEND_ERROR_OUTPUT
} KlingBackendError;

G_END_DECLS

#endif /* __KLING_BACKEND_ERROR_H__ */
