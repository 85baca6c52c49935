// Unit tests of the backup container: round trip, and each kind of damage told apart.
#include "client/ops/backup_crypto.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace pgmig::client::backup_crypto;

namespace {

using Bytes = std::vector<unsigned char>;

const std::string kHexKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";

Bytes plaintext(std::size_t size) {
    Bytes p(size);
    for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<unsigned char>((i * 131 + 7) % 251);
    return p;
}

Bytes encrypt(const KeyMaterial& key, const Bytes& plain, std::uint32_t chunk_size, std::size_t write_size = 1000) {
    Bytes out;
    Encryptor enc(
        key, [&](const unsigned char* d, std::size_t n) { out.insert(out.end(), d, d + n); }, chunk_size);
    for (std::size_t at = 0; at < plain.size(); at += write_size) {
        enc.write(plain.data() + at, std::min(write_size, plain.size() - at));
    }
    enc.finish();
    return out;
}

Bytes decrypt(const KeyMaterial& key, const Bytes& data, std::size_t feed_size = 777) {
    Bytes out;
    Decryptor dec(key, [&](const unsigned char* d, std::size_t n) { out.insert(out.end(), d, d + n); });
    for (std::size_t at = 0; at < data.size(); at += feed_size) {
        dec.feed(data.data() + at, std::min(feed_size, data.size() - at));
    }
    dec.finish();
    return out;
}

ContainerError::Kind failure(const KeyMaterial& key, const Bytes& data) {
    try {
        decrypt(key, data);
    } catch (const ContainerError& e) {
        return e.kind();
    }
    ADD_FAILURE() << "decryption succeeded";
    return ContainerError::Kind::unsupported;
}

std::size_t chunk_offset(const Bytes& data, std::size_t index) {  // offset of chunk `index`
    std::size_t at = kHeaderSize;
    for (std::size_t i = 0; i < index; ++i) {
        const std::size_t len = (std::size_t{data[at + 13]} << 24) | (std::size_t{data[at + 14]} << 16) |
                                (std::size_t{data[at + 15]} << 8) | data[at + 16];
        at += kChunkPrefixSize + len + kTagSize;
    }
    return at;
}

}  // namespace

TEST(BackupKey, HexAndRawBytesAreKeysAnythingElseAPassphrase) {
    const auto hex = KeyMaterial::from_file_contents(kHexKey);
    EXPECT_FALSE(hex.is_passphrase());
    std::string raw(32, '\0');
    for (int i = 0; i < 32; ++i) raw[i] = static_cast<char>(i < 16 ? 0x00 + (i * 0x11) % 256 : (i - 16) * 0x11);
    const auto raw_key = KeyMaterial::from_file_contents(raw);
    EXPECT_FALSE(raw_key.is_passphrase());
    EXPECT_EQ(hex.key_id(), raw_key.key_id());  // the same 32 bytes, written two ways
    EXPECT_EQ(hex.key_id().size(), 16U);
    EXPECT_EQ(hex.key_id().find("0011"), std::string::npos);
    EXPECT_TRUE(KeyMaterial::from_file_contents("correct horse battery staple\n").is_passphrase());
    EXPECT_TRUE(KeyMaterial::from_file_contents(kHexKey.substr(0, 62) + "\n").is_passphrase());
    EXPECT_THROW(KeyMaterial::from_file_contents("\n"), std::invalid_argument);
}

TEST(BackupKey, PassphraseKeyIdIsStableAndDiffersFromOthers) {
    const auto a = KeyMaterial::from_passphrase("correct horse battery staple");
    const auto b = KeyMaterial::from_passphrase("correct horse battery staple\n");
    const auto c = KeyMaterial::from_passphrase("correct horse battery stapler");
    EXPECT_EQ(a.key_id(), b.key_id());
    EXPECT_NE(a.key_id(), c.key_id());
}

TEST(BackupContainer, RoundTripAcrossChunkSizes) {
    const auto key = KeyMaterial::from_file_contents(kHexKey);
    for (std::size_t size :
         {std::size_t{0}, std::size_t{1}, std::size_t{4096}, std::size_t{4097}, std::size_t{50000}}) {
        const Bytes plain = plaintext(size);
        const Bytes enc = encrypt(key, plain, 4096);
        EXPECT_EQ(decrypt(key, enc), plain) << size;
        EXPECT_EQ(decrypt(key, enc, 1), plain) << size;
        const std::size_t chunks = size == 0 ? 1 : (size + 4095) / 4096;  // the last one is final, maybe empty
        EXPECT_EQ(enc.size(), kHeaderSize + chunks * (kChunkPrefixSize + kTagSize) + size) << size;
    }
}

TEST(BackupContainer, FreshNoncesMakeEveryEncryptionDifferent) {
    const auto key = KeyMaterial::from_file_contents(kHexKey);
    const Bytes plain = plaintext(10000);
    EXPECT_NE(encrypt(key, plain, 4096), encrypt(key, plain, 4096));
}

TEST(BackupContainer, PassphraseRoundTrip) {
    const auto key = KeyMaterial::from_passphrase("correct horse battery staple");
    const Bytes plain = plaintext(9000);
    const Bytes enc = encrypt(key, plain, 4096);
    EXPECT_EQ(decrypt(KeyMaterial::from_passphrase("correct horse battery staple"), enc), plain);
    EXPECT_EQ(failure(KeyMaterial::from_passphrase("wrong horse"), enc), ContainerError::Kind::wrong_key);
    EXPECT_EQ(failure(KeyMaterial::from_file_contents(kHexKey), enc), ContainerError::Kind::wrong_key);
}

TEST(BackupContainer, WrongKeyIsToldApart) {
    const auto key = KeyMaterial::from_file_contents(kHexKey);
    const Bytes enc = encrypt(key, plaintext(10000), 4096);
    std::string other = kHexKey;
    other[0] = '1';
    EXPECT_EQ(failure(KeyMaterial::from_file_contents(other), enc), ContainerError::Kind::wrong_key);
}

TEST(BackupContainer, FlippedByteAnywhereIsCorruption) {
    const auto key = KeyMaterial::from_file_contents(kHexKey);
    const Bytes enc = encrypt(key, plaintext(10000), 4096);
    // header fields, a nonce, a flag, ciphertext, a tag, the last byte
    for (std::size_t at : {std::size_t{9}, std::size_t{40}, std::size_t{60}, std::size_t{80}, kHeaderSize,
                           kHeaderSize + 12, kHeaderSize + 100, chunk_offset(enc, 1) - 1, enc.size() - 1}) {
        Bytes bad = enc;
        bad[at] ^= 0x01;
        EXPECT_EQ(failure(key, bad), ContainerError::Kind::corrupted) << "byte " << at;
    }
    Bytes bad = enc;
    bad[0] ^= 0x01;
    EXPECT_EQ(failure(key, bad), ContainerError::Kind::not_a_backup);
}

TEST(BackupContainer, TruncationIsToldApart) {
    const auto key = KeyMaterial::from_file_contents(kHexKey);
    const Bytes enc = encrypt(key, plaintext(10000), 4096);
    for (std::size_t keep :
         {std::size_t{50}, kHeaderSize, kHeaderSize + 5, chunk_offset(enc, 1), chunk_offset(enc, 2), enc.size() - 1}) {
        const Bytes cut(enc.begin(), enc.begin() + static_cast<std::ptrdiff_t>(keep));
        EXPECT_EQ(failure(key, cut), ContainerError::Kind::truncated) << "kept " << keep;
    }
}

TEST(BackupContainer, ReorderedDroppedOrAppendedChunksAreCaught) {
    const auto key = KeyMaterial::from_file_contents(kHexKey);
    const Bytes enc = encrypt(key, plaintext(3 * 4096 + 10), 4096);
    const std::size_t c0 = chunk_offset(enc, 0), c1 = chunk_offset(enc, 1), c2 = chunk_offset(enc, 2);
    Bytes swapped(enc.begin(), enc.begin() + static_cast<std::ptrdiff_t>(c0));
    swapped.insert(swapped.end(), enc.begin() + static_cast<std::ptrdiff_t>(c1),
                   enc.begin() + static_cast<std::ptrdiff_t>(c2));
    swapped.insert(swapped.end(), enc.begin() + static_cast<std::ptrdiff_t>(c0),
                   enc.begin() + static_cast<std::ptrdiff_t>(c1));
    swapped.insert(swapped.end(), enc.begin() + static_cast<std::ptrdiff_t>(c2), enc.end());
    ASSERT_EQ(swapped.size(), enc.size());
    EXPECT_EQ(failure(key, swapped), ContainerError::Kind::corrupted);

    Bytes dropped(enc.begin(), enc.begin() + static_cast<std::ptrdiff_t>(c1));  // chunk 1 left out
    dropped.insert(dropped.end(), enc.begin() + static_cast<std::ptrdiff_t>(c2), enc.end());
    EXPECT_EQ(failure(key, dropped), ContainerError::Kind::corrupted);

    Bytes appended = enc;
    appended.push_back(0);
    EXPECT_EQ(failure(key, appended), ContainerError::Kind::corrupted);
}

TEST(BackupContainer, HeaderOfAnotherBackupDoesNotFit) {
    const auto key = KeyMaterial::from_file_contents(kHexKey);
    const Bytes a = encrypt(key, plaintext(5000), 4096);
    const Bytes b = encrypt(key, plaintext(5000), 4096);
    Bytes mixed(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(kHeaderSize));  // same key, same fields
    mixed.insert(mixed.end(), a.begin() + static_cast<std::ptrdiff_t>(kHeaderSize), a.end());
    EXPECT_EQ(failure(key, mixed), ContainerError::Kind::corrupted);  // another salt, another per-file key
    const auto pass = KeyMaterial::from_passphrase("pw one");
    const Bytes pa = encrypt(pass, plaintext(5000), 4096);
    const Bytes pb = encrypt(pass, plaintext(5000), 4096);  // another salt, another key
    Bytes pmixed(pb.begin(), pb.begin() + static_cast<std::ptrdiff_t>(kHeaderSize));
    pmixed.insert(pmixed.end(), pa.begin() + static_cast<std::ptrdiff_t>(kHeaderSize), pa.end());
    EXPECT_EQ(failure(pass, pmixed), ContainerError::Kind::corrupted);
}

TEST(BackupContainer, RawKeyHeadersDifferPerFile) {
    const auto key = KeyMaterial::from_file_contents(kHexKey);
    const Bytes a = encrypt(key, plaintext(100), 4096);
    const Bytes b = encrypt(key, plaintext(100), 4096);
    const Bytes salt_a(a.begin() + 20, a.begin() + 36), salt_b(b.begin() + 20, b.begin() + 36);
    EXPECT_NE(salt_a, Bytes(16, 0));
    EXPECT_NE(salt_a, salt_b);
}

TEST(BackupContainer, ChunkOfAnotherRawKeyBackupIsCaught) {
    const auto key = KeyMaterial::from_file_contents(kHexKey);
    const Bytes a = encrypt(key, plaintext(3 * 4096), 4096);
    const Bytes b = encrypt(key, plaintext(3 * 4096), 4096);
    // chunk 1 of b put in place of chunk 1 of a: same key, same index, same length
    const std::size_t a1 = chunk_offset(a, 1), a2 = chunk_offset(a, 2);
    const std::size_t b1 = chunk_offset(b, 1), b2 = chunk_offset(b, 2);
    ASSERT_EQ(a2 - a1, b2 - b1);
    Bytes spliced = a;
    std::copy(b.begin() + static_cast<std::ptrdiff_t>(b1), b.begin() + static_cast<std::ptrdiff_t>(b2),
              spliced.begin() + static_cast<std::ptrdiff_t>(a1));
    ASSERT_NE(spliced, a);
    EXPECT_EQ(failure(key, spliced), ContainerError::Kind::corrupted);
}

TEST(BackupContainer, ScryptParametersOtherThanPgmigsAreRefusedAsCorrupted) {
    const auto pass = KeyMaterial::from_passphrase("correct horse battery staple");
    const Bytes enc = encrypt(pass, plaintext(100), 4096);
    auto with = [&](std::uint8_t log2n, std::uint8_t r_low, std::uint8_t p_low) {
        Bytes bad = enc;
        bad[10] = log2n;
        bad[15] = r_low;
        bad[19] = p_low;
        Sha256 sha;  // a consistent header checksum, as a forger would write
        sha.update(bad.data(), 72);
        const std::string hex = sha.hex();
        for (std::size_t i = 0; i < 32; ++i)
            bad[72 + i] = static_cast<unsigned char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
        return bad;
    };
    EXPECT_EQ(decrypt(pass, with(15, 8, 1)), plaintext(100));  // pgmig's own parameters, checksum recomputed
    EXPECT_EQ(failure(pass, with(22, 8, 1)), ContainerError::Kind::corrupted);  // 4 GiB of memory
    EXPECT_EQ(failure(pass, with(15, 32, 1)), ContainerError::Kind::corrupted);
    EXPECT_EQ(failure(pass, with(15, 8, 16)), ContainerError::Kind::corrupted);  // 16 times the CPU
}

TEST(BackupKey, ThirtyTwoPrintableCharactersAreAPassphrase) {
    const std::string pw = "abcdefghijklmnopqrstuvwxyz012345";
    ASSERT_EQ(pw.size(), 32U);
    EXPECT_TRUE(KeyMaterial::from_file_contents(pw).is_passphrase());
    EXPECT_EQ(KeyMaterial::from_file_contents(pw).key_id(), KeyMaterial::from_passphrase(pw).key_id());
    std::string binary = pw;
    binary[5] = '\x01';
    EXPECT_FALSE(KeyMaterial::from_file_contents(binary).is_passphrase());
}

TEST(Sha256, KnownDigest) {
    Sha256 sha;
    sha.update(reinterpret_cast<const unsigned char*>("abc"), 3);
    EXPECT_EQ(sha.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
