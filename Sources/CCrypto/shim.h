// libcrypto for Swift (Debian: libssl-dev). Only BatonCrypto imports this module.
#ifndef BATON_CCRYPTO_SHIM_H
#define BATON_CCRYPTO_SHIM_H

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#endif
