// The backup container: OpenSSL 3 EVP AES-256-GCM, scrypt, HMAC-SHA256 key check, SHA-256.
#include "client/ops/backup_crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace pgmig::client::backup_crypto {

namespace {

constexpr char kMagic[8] = {'P', 'G', 'M', 'I', 'G', 'B', 'K', '1'};
// Version 2: a random 16-byte salt in every header, and a raw key goes through HKDF-SHA256(key, salt), so
// every file has its own AES key (chunks cannot be moved between files; the nonce budget is per file).
// Version 1 (raw keys used as they are, zero salt) is still read.
constexpr std::uint8_t kVersion = 2;
constexpr std::uint8_t kVersionLegacy = 1;
constexpr std::uint8_t kKdfRaw = 0;
constexpr std::uint8_t kKdfScrypt = 1;
constexpr std::size_t kHeaderBodySize = 72;  // before the header's own SHA-256
constexpr std::uint8_t kFinalFlag = 1;

void put_u32(unsigned char* p, std::uint32_t v) {
    p[0] = static_cast<unsigned char>(v >> 24);
    p[1] = static_cast<unsigned char>(v >> 16);
    p[2] = static_cast<unsigned char>(v >> 8);
    p[3] = static_cast<unsigned char>(v);
}
std::uint32_t get_u32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}
void put_u64(unsigned char* p, std::uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<unsigned char>(v);
        v >>= 8;
    }
}

void sha256(const unsigned char* data, std::size_t size, unsigned char out[32]) {
    unsigned int len = 0;
    if (EVP_Digest(data, size, out, &len, EVP_sha256(), nullptr) != 1) throw std::runtime_error("SHA-256 failed");
}

Key scrypt(const std::string& passphrase, const unsigned char* salt, std::size_t salt_len, std::uint8_t log2n,
           std::uint32_t r, std::uint32_t p) {
    // The parameters come from the header, which is not authenticated before the key is derived: accept only
    // what pgmig writes, so a damaged or forged header cannot make us spend gigabytes or minutes.
    if (log2n != kScryptLog2N || r != kScryptR || p != kScryptP) {
        throw ContainerError(ContainerError::Kind::corrupted,
                             "the header's scrypt parameters (N = 2^" + std::to_string(log2n) +
                                 ", r = " + std::to_string(r) + ", p = " + std::to_string(p) +
                                 ") are not the ones pgmig writes: the header is damaged or forged");
    }
    Key key{};
    const std::uint64_t n = std::uint64_t{1} << log2n;
    const std::uint64_t maxmem = 256 * n * r * p + (std::uint64_t{64} << 20);
    if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), salt, salt_len, n, r, p, maxmem, key.data(), key.size()) !=
        1) {
        throw std::runtime_error("scrypt key derivation failed (out of memory?)");
    }
    return key;
}

Key hkdf_sha256(const std::string& ikm, const unsigned char* salt, std::size_t salt_len) {
    static constexpr char info[] = "pgmig-backup-file-key";
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    if (kdf == nullptr) throw std::runtime_error("HKDF is not available in OpenSSL");
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (ctx == nullptr) throw std::runtime_error("EVP_KDF_CTX_new failed");
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", digest, 0),
        OSSL_PARAM_construct_octet_string("key", const_cast<char*>(ikm.data()), ikm.size()),
        OSSL_PARAM_construct_octet_string("salt", const_cast<unsigned char*>(salt), salt_len),
        OSSL_PARAM_construct_octet_string("info", const_cast<char*>(info), sizeof info - 1),
        OSSL_PARAM_construct_end(),
    };
    Key key{};
    const int rc = EVP_KDF_derive(ctx, key.data(), key.size(), params);
    EVP_KDF_CTX_free(ctx);
    if (rc != 1) throw std::runtime_error("HKDF-SHA256 key derivation failed");
    return key;
}

std::string key_id_of(const Key& key) {
    static constexpr char prefix[] = "pgmig-backup-key-id";
    std::vector<unsigned char> buf(prefix, prefix + sizeof prefix - 1);
    buf.insert(buf.end(), key.begin(), key.end());
    unsigned char digest[32];
    sha256(buf.data(), buf.size(), digest);
    OPENSSL_cleanse(buf.data(), buf.size());
    return to_hex(digest, 8);
}

void key_check(const Key& key, unsigned char out[16]) {
    static constexpr char label[] = "pgmig-backup-key-check";
    unsigned char mac[32];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(label),
             sizeof label - 1, mac, &len) == nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    std::memcpy(out, mac, 16);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

struct CipherCtx {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    CipherCtx() {
        if (ctx == nullptr) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
    }
    ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
    CipherCtx(const CipherCtx&) = delete;
    CipherCtx& operator=(const CipherCtx&) = delete;
};

// AAD of a chunk: header | index | flags | length.
std::vector<unsigned char> chunk_aad(const unsigned char* header, std::uint64_t index, std::uint8_t flags,
                                     std::uint32_t length) {
    std::vector<unsigned char> aad(kHeaderSize + 8 + 1 + 4);
    std::memcpy(aad.data(), header, kHeaderSize);
    put_u64(aad.data() + kHeaderSize, index);
    aad[kHeaderSize + 8] = flags;
    put_u32(aad.data() + kHeaderSize + 9, length);
    return aad;
}

}  // namespace

std::string to_hex(const unsigned char* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out.push_back(digits[data[i] >> 4]);
        out.push_back(digits[data[i] & 0xf]);
    }
    return out;
}

// ---- KeyMaterial ----

KeyMaterial KeyMaterial::from_file_contents(std::string contents) {
    std::string trimmed = contents;
    if (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
    if (!trimmed.empty() && trimmed.back() == '\r') trimmed.pop_back();
    if (trimmed.size() == 64 && std::all_of(trimmed.begin(), trimmed.end(), [](char c) { return hex_value(c) >= 0; })) {
        std::string raw(kKeySize, '\0');
        for (std::size_t i = 0; i < kKeySize; ++i) {
            raw[i] = static_cast<char>(hex_value(trimmed[2 * i]) * 16 + hex_value(trimmed[2 * i + 1]));
        }
        OPENSSL_cleanse(trimmed.data(), trimmed.size());
        OPENSSL_cleanse(contents.data(), contents.size());
        return KeyMaterial(std::move(raw), false);
    }
    // 32 bytes are a raw key only when they are not all printable ASCII: a 32-character passphrase (without a
    // newline) must still go through scrypt.
    if (contents.size() == kKeySize &&
        !std::all_of(contents.begin(), contents.end(), [](char c) { return c >= 0x20 && c <= 0x7e; })) {
        OPENSSL_cleanse(trimmed.data(), trimmed.size());
        return KeyMaterial(std::move(contents), false);
    }
    OPENSSL_cleanse(contents.data(), contents.size());
    return from_passphrase(std::move(trimmed));
}

KeyMaterial KeyMaterial::from_passphrase(std::string passphrase) {
    if (!passphrase.empty() && passphrase.back() == '\n') passphrase.pop_back();
    if (passphrase.empty()) throw std::invalid_argument("the passphrase is empty");
    return KeyMaterial(std::move(passphrase), true);
}

Key KeyMaterial::derive(std::uint8_t kdf, std::uint8_t log2n, std::uint32_t r, std::uint32_t p,
                        const unsigned char* salt, bool per_file_raw_key) const {
    if (kdf == kKdfRaw) {
        if (passphrase_) {
            throw ContainerError(ContainerError::Kind::wrong_key,
                                 "the backup was encrypted with a raw key, but a passphrase was given");
        }
        if (per_file_raw_key) return hkdf_sha256(secret_, salt, 16);
        Key key{};
        std::memcpy(key.data(), secret_.data(), kKeySize);
        return key;
    }
    if (kdf == kKdfScrypt) {
        if (!passphrase_) {
            throw ContainerError(ContainerError::Kind::wrong_key,
                                 "the backup was encrypted with a passphrase, but a raw key was given");
        }
        return scrypt(secret_, salt, 16, log2n, r, p);
    }
    throw ContainerError(ContainerError::Kind::unsupported, "unknown key derivation in the header");
}

const std::string& KeyMaterial::key_id() const {
    if (key_id_.empty()) {
        if (passphrase_) {
            static constexpr char salt[] = "pgmig-backup-key-id";
            Key k = scrypt(secret_, reinterpret_cast<const unsigned char*>(salt), sizeof salt - 1, kScryptLog2N,
                           kScryptR, kScryptP);
            key_id_ = key_id_of(k);
            OPENSSL_cleanse(k.data(), k.size());
        } else {
            Key k{};
            std::memcpy(k.data(), secret_.data(), kKeySize);
            key_id_ = key_id_of(k);
            OPENSSL_cleanse(k.data(), k.size());
        }
    }
    return key_id_;
}

// ---- Encryptor ----

struct Encryptor::Impl {
    Sink sink;
    std::uint32_t chunk_size;
    Key key{};
    unsigned char header[kHeaderSize]{};
    CipherCtx cipher;
    std::vector<unsigned char> buffer;  // plaintext of the current chunk
    std::vector<unsigned char> out;     // the chunk being written
    std::uint64_t index = 0;
    bool finished = false;
    ~Impl() { OPENSSL_cleanse(key.data(), key.size()); }
};

Encryptor::Encryptor(const KeyMaterial& key, Sink sink, std::uint32_t chunk_size) : impl_(std::make_unique<Impl>()) {
    if (chunk_size == 0 || chunk_size > kMaxChunkSize) throw std::invalid_argument("bad chunk size");
    Impl& s = *impl_;
    s.sink = std::move(sink);
    s.chunk_size = chunk_size;
    unsigned char* h = s.header;
    std::memcpy(h, kMagic, 8);
    h[8] = kVersion;
    unsigned char salt[16]{};
    if (RAND_bytes(salt, sizeof salt) != 1) throw std::runtime_error("RAND_bytes failed");
    if (key.is_passphrase()) {
        h[9] = kKdfScrypt;
        h[10] = kScryptLog2N;
        put_u32(h + 12, kScryptR);
        put_u32(h + 16, kScryptP);
    } else {
        h[9] = kKdfRaw;
    }
    std::memcpy(h + 20, salt, 16);
    const std::string& id = key.key_id();
    std::copy_n(id.begin(), std::min<std::size_t>(16, id.size()), h + 36);
    put_u32(h + 52, chunk_size);
    s.key = key.derive(h[9], h[10], get_u32(h + 12), get_u32(h + 16), salt, true);
    key_check(s.key, h + 56);
    sha256(h, kHeaderBodySize, h + kHeaderBodySize);
    if (EVP_EncryptInit_ex(s.cipher.ctx, EVP_aes_256_gcm(), nullptr, s.key.data(), nullptr) != 1) {
        throw std::runtime_error("AES-256-GCM init failed");
    }
    s.buffer.reserve(chunk_size);
    s.out.resize(kChunkPrefixSize + chunk_size + kTagSize);
    s.sink(h, kHeaderSize);
}

Encryptor::~Encryptor() = default;

void Encryptor::emit(bool final) {
    Impl& s = *impl_;
    const auto length = static_cast<std::uint32_t>(s.buffer.size());
    const std::uint8_t flags = final ? kFinalFlag : 0;
    unsigned char* o = s.out.data();
    if (RAND_bytes(o, kNonceSize) != 1) throw std::runtime_error("RAND_bytes failed");
    o[kNonceSize] = flags;
    put_u32(o + kNonceSize + 1, length);
    const auto aad = chunk_aad(s.header, s.index, flags, length);
    int len = 0;
    if (EVP_EncryptInit_ex(s.cipher.ctx, nullptr, nullptr, nullptr, o) != 1 ||
        EVP_EncryptUpdate(s.cipher.ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
        throw std::runtime_error("AES-256-GCM failed");
    }
    int written = 0;
    if (length > 0 && EVP_EncryptUpdate(s.cipher.ctx, o + kChunkPrefixSize, &written, s.buffer.data(),
                                        static_cast<int>(length)) != 1) {
        throw std::runtime_error("AES-256-GCM failed");
    }
    int tail = 0;
    if (EVP_EncryptFinal_ex(s.cipher.ctx, o + kChunkPrefixSize + written, &tail) != 1 ||
        EVP_CIPHER_CTX_ctrl(s.cipher.ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, o + kChunkPrefixSize + length) != 1) {
        throw std::runtime_error("AES-256-GCM failed");
    }
    s.sink(o, kChunkPrefixSize + length + kTagSize);
    OPENSSL_cleanse(s.buffer.data(), s.buffer.size());
    s.buffer.clear();
    ++s.index;
}

void Encryptor::write(const unsigned char* data, std::size_t size) {
    Impl& s = *impl_;
    if (s.finished) throw std::logic_error("write after finish");
    while (size > 0) {
        if (s.buffer.size() == s.chunk_size) emit(false);
        const std::size_t n = std::min<std::size_t>(size, s.chunk_size - s.buffer.size());
        s.buffer.insert(s.buffer.end(), data, data + n);
        data += n;
        size -= n;
    }
}

void Encryptor::finish() {
    if (impl_->finished) return;
    emit(true);
    impl_->finished = true;
}

// ---- Decryptor ----

struct Decryptor::Impl {
    const KeyMaterial* material = nullptr;
    Sink sink;
    Key key{};
    unsigned char header[kHeaderSize]{};
    bool have_header = false;
    std::uint32_t chunk_size = 0;
    CipherCtx cipher;
    std::vector<unsigned char> pending;  // bytes not consumed yet
    std::vector<unsigned char> plain;
    std::uint64_t index = 0;
    bool final_seen = false;
    ~Impl() { OPENSSL_cleanse(key.data(), key.size()); }
};

Decryptor::Decryptor(const KeyMaterial& key, Sink sink) : impl_(std::make_unique<Impl>()) {
    impl_->material = &key;
    impl_->sink = std::move(sink);
}

Decryptor::~Decryptor() = default;

std::string Decryptor::header_key_id() const {
    if (!impl_->have_header) return {};
    return std::string(reinterpret_cast<const char*>(impl_->header + 36), 16);
}

std::uint64_t Decryptor::chunks() const { return impl_->index; }

void Decryptor::feed(const unsigned char* data, std::size_t size) {
    using K = ContainerError::Kind;
    Impl& s = *impl_;
    s.pending.insert(s.pending.end(), data, data + size);
    std::size_t pos = 0;
    if (!s.have_header) {
        if (s.pending.size() < kHeaderSize) {
            if (s.pending.size() >= 8 && std::memcmp(s.pending.data(), kMagic, 8) != 0) {
                throw ContainerError(K::not_a_backup, "the file does not start with PGMIGBK1: not a pgmig backup");
            }
            return;
        }
        const unsigned char* h = s.pending.data();
        if (std::memcmp(h, kMagic, 8) != 0) {
            throw ContainerError(K::not_a_backup, "the file does not start with PGMIGBK1: not a pgmig backup");
        }
        unsigned char digest[32];
        sha256(h, kHeaderBodySize, digest);
        if (std::memcmp(digest, h + kHeaderBodySize, 32) != 0) {
            throw ContainerError(K::corrupted, "the header is damaged (its checksum does not match)");
        }
        if (h[8] != kVersion && h[8] != kVersionLegacy) {
            throw ContainerError(K::unsupported, "container version " + std::to_string(h[8]) + " is not supported");
        }
        std::memcpy(s.header, h, kHeaderSize);
        s.have_header = true;
        s.chunk_size = get_u32(h + 52);
        if (s.chunk_size == 0 || s.chunk_size > kMaxChunkSize) {
            throw ContainerError(K::corrupted, "the header's chunk size is out of range");
        }
        const std::string id = header_key_id();
        if (id != s.material->key_id()) {
            throw ContainerError(K::wrong_key, "the backup was encrypted with key id " + id +
                                                   ", the given key has key id " + s.material->key_id());
        }
        s.key = s.material->derive(h[9], h[10], get_u32(h + 12), get_u32(h + 16), h + 20, h[8] != kVersionLegacy);
        unsigned char check[16];
        key_check(s.key, check);
        if (CRYPTO_memcmp(check, h + 56, 16) != 0) {
            throw ContainerError(K::wrong_key, "the key does not match the backup's key check value");
        }
        if (EVP_DecryptInit_ex(s.cipher.ctx, EVP_aes_256_gcm(), nullptr, s.key.data(), nullptr) != 1) {
            throw std::runtime_error("AES-256-GCM init failed");
        }
        s.plain.resize(s.chunk_size);
        pos = kHeaderSize;
    }
    for (;;) {
        const std::size_t avail = s.pending.size() - pos;
        if (avail == 0) break;
        if (s.final_seen) {
            throw ContainerError(K::corrupted, "there are bytes after the final chunk");
        }
        if (avail < kChunkPrefixSize) break;
        const unsigned char* c = s.pending.data() + pos;
        const std::uint8_t flags = c[kNonceSize];
        const std::uint32_t length = get_u32(c + kNonceSize + 1);
        if ((flags & ~kFinalFlag) != 0 || length > s.chunk_size) {
            throw ContainerError(K::corrupted, "chunk " + std::to_string(s.index) + " has a damaged length or flags");
        }
        if (avail < kChunkPrefixSize + length + kTagSize) break;
        const auto aad = chunk_aad(s.header, s.index, flags, length);
        int len = 0;
        int out = 0;
        int tail = 0;
        if (EVP_DecryptInit_ex(s.cipher.ctx, nullptr, nullptr, nullptr, c) != 1 ||
            EVP_DecryptUpdate(s.cipher.ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1 ||
            (length > 0 && EVP_DecryptUpdate(s.cipher.ctx, s.plain.data(), &out, c + kChunkPrefixSize,
                                             static_cast<int>(length)) != 1) ||
            EVP_CIPHER_CTX_ctrl(s.cipher.ctx, EVP_CTRL_GCM_SET_TAG, kTagSize,
                                const_cast<unsigned char*>(c + kChunkPrefixSize + length)) != 1 ||
            EVP_DecryptFinal_ex(s.cipher.ctx, s.plain.data() + out, &tail) != 1) {
            throw ContainerError(K::corrupted, "chunk " + std::to_string(s.index) +
                                                   " failed authentication (damaged, reordered or tampered with)");
        }
        if (length > 0) s.sink(s.plain.data(), length);
        pos += kChunkPrefixSize + length + kTagSize;
        ++s.index;
        if ((flags & kFinalFlag) != 0) s.final_seen = true;
    }
    s.pending.erase(s.pending.begin(), s.pending.begin() + static_cast<std::ptrdiff_t>(pos));
}

void Decryptor::finish() {
    using K = ContainerError::Kind;
    const Impl& s = *impl_;
    if (!s.have_header) {
        if (s.pending.size() >= 8 && std::memcmp(s.pending.data(), kMagic, 8) != 0) {
            throw ContainerError(K::not_a_backup, "the file does not start with PGMIGBK1: not a pgmig backup");
        }
        throw ContainerError(K::truncated, "the file ends inside the header");
    }
    if (!s.final_seen) {
        throw ContainerError(K::truncated,
                             "the file ends after " + std::to_string(s.index) + " chunks without the final chunk");
    }
}

// ---- Sha256 ----

struct Sha256::Impl {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
    if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 init failed");
    }
}
Sha256::~Sha256() = default;

void Sha256::update(const unsigned char* data, std::size_t size) {
    if (EVP_DigestUpdate(impl_->ctx, data, size) != 1) throw std::runtime_error("SHA-256 failed");
}

std::string Sha256::hex() {
    unsigned char digest[32];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(impl_->ctx, digest, &len) != 1) throw std::runtime_error("SHA-256 failed");
    return to_hex(digest, len);
}

}  // namespace pgmig::client::backup_crypto
