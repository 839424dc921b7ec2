/*
 * fuzz_session_server: a whole server connection (fuzz_session_impl.h):
 * the client's upgrade request, then masked frames, read in chunks and
 * interleaved with the application's calls.
 */
#define FUZZ_SESSION_ROLE WS_ROLE_SERVER
#include "fuzz_session_impl.h"
