/*
 * fuzz_session_client: a whole client connection (fuzz_session_impl.h):
 * our upgrade request is built from a fixed option set and nonce, the
 * input is the server's 101 response then unmasked frames, read in chunks
 * and interleaved with the application's calls.
 */
#define FUZZ_SESSION_ROLE WS_ROLE_CLIENT
#include "fuzz_session_impl.h"
