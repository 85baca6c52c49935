// The encrypted backup container (pgmig-backup/1): AES-256-GCM in chunks, each with a fresh random nonce,
// the header, the chunk index and a final-chunk flag authenticated with it; the key material (raw key or
// passphrase through scrypt) and its key id. Pure logic, no I/O of its own: bytes in, bytes out via a sink.
//
// Layout (integers big-endian):
//   header (104 bytes): "PGMIGBK1" | version u8 (2; 1 is still read) | kdf u8 (0 raw key, 1 scrypt) |
//                       log2(N) u8 | 0 u8 | r u32 | p u32 | salt[16] (random, in every file) |
//                       key id[16] (ASCII hex) | chunk size u32 |
//                       key check[16] = HMAC-SHA256(key, "pgmig-backup-key-check")[0..16] |
//                       SHA-256 of the 72 bytes before (tells a damaged header from a wrong key)
//   AES key: raw key: HKDF-SHA256(key, salt, "pgmig-backup-file-key") (version 1: the key itself);
//            passphrase: scrypt(passphrase, salt) with N = 2^15, r = 8, p = 1 only.
//   chunks: nonce[12] | flags u8 (1 = final) | length u32 | ciphertext[length] | tag[16]
//           AAD = header | chunk index u64 | flags | length
// The last chunk has the final flag (it may be empty): a file that ends before it is truncated.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgmig::client::backup_crypto {

inline constexpr std::size_t kKeySize = 32;
inline constexpr std::size_t kHeaderSize = 104;
inline constexpr std::size_t kNonceSize = 12;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kChunkPrefixSize = kNonceSize + 1 + 4;
inline constexpr std::uint32_t kDefaultChunkSize = 1U << 20;  // 1 MiB of plaintext per chunk
inline constexpr std::uint32_t kMaxChunkSize = 64U << 20;
// scrypt parameters for passphrases: N = 2^15, r = 8, p = 1 (32 MiB, about 0.1 s).
inline constexpr std::uint8_t kScryptLog2N = 15;
inline constexpr std::uint32_t kScryptR = 8;
inline constexpr std::uint32_t kScryptP = 1;

using Key = std::array<unsigned char, kKeySize>;

// What a key source holds: 64 hex digits (a trailing newline allowed), or exactly 32 bytes that are not all
// printable ASCII, are the key; anything else (a 32-character passphrase too) is a passphrase (one trailing
// newline removed).
class KeyMaterial {
  public:
    static KeyMaterial from_file_contents(std::string contents);
    static KeyMaterial from_passphrase(std::string passphrase);
    bool is_passphrase() const { return passphrase_; }
    // First 16 hex digits of SHA-256("pgmig-backup-key-id" || key); for a passphrase the key is its scrypt
    // with the fixed salt "pgmig-backup-key-id", so the id is stable and costs a brute force the scrypt.
    const std::string& key_id() const;
    // The AES key for a header's KDF parameters: HKDF-SHA256(key, salt) for a raw key (the key itself in a
    // version 1 file, per_file_raw_key false), or scrypt(passphrase, salt) with only pgmig's own parameters
    // (others are a corrupted header).
    Key derive(std::uint8_t kdf, std::uint8_t log2n, std::uint32_t r, std::uint32_t p, const unsigned char* salt,
               bool per_file_raw_key) const;
    const std::string& secret() const { return secret_; }  // for the derivation only; never print it

  private:
    KeyMaterial(std::string secret, bool passphrase) : secret_(std::move(secret)), passphrase_(passphrase) {}
    std::string secret_;
    bool passphrase_ = false;
    mutable std::string key_id_;
};

// A container failure, with what kind of failure it is.
class ContainerError : public std::runtime_error {
  public:
    enum class Kind { not_a_backup, unsupported, corrupted, truncated, wrong_key };
    ContainerError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    Kind kind() const { return kind_; }

  private:
    Kind kind_;
};

using Sink = std::function<void(const unsigned char* data, std::size_t size)>;

// Plaintext in (write), container out (to the sink): the header first, then a chunk for every chunk_size bytes,
// and on finish() the final chunk.
class Encryptor {
  public:
    Encryptor(const KeyMaterial& key, Sink sink, std::uint32_t chunk_size = kDefaultChunkSize);
    ~Encryptor();
    Encryptor(const Encryptor&) = delete;
    Encryptor& operator=(const Encryptor&) = delete;
    void write(const unsigned char* data, std::size_t size);
    void finish();

  private:
    void emit(bool final);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Container in (feed), plaintext out (to the sink); finish() throws truncated when the final chunk never came.
class Decryptor {
  public:
    Decryptor(const KeyMaterial& key, Sink sink);
    ~Decryptor();
    Decryptor(const Decryptor&) = delete;
    Decryptor& operator=(const Decryptor&) = delete;
    void feed(const unsigned char* data, std::size_t size);
    void finish();
    // The header's key id (known once the header was read; empty before).
    std::string header_key_id() const;
    std::uint64_t chunks() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Lower-case hex of bytes.
std::string to_hex(const unsigned char* data, std::size_t size);

// Incremental SHA-256 (hex digest).
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(const unsigned char* data, std::size_t size);
    std::string hex();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pgmig::client::backup_crypto
