#include "core/hash.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/hex.h"

namespace infernet {
namespace {

TEST(HashTest, Sha256KnownAnswer) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, Blake2b256KnownAnswer) {
  // BLAKE2b-256("abc"), from the BLAKE2 reference implementation.
  EXPECT_EQ(HexEncode(Blake2b256("abc")),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(HashTest, IncrementalMatchesOneShot) {
  Blake2b256Hasher h;
  h.Update(std::span(reinterpret_cast<const uint8_t*>("hello "), 6));
  h.Update(std::span(reinterpret_cast<const uint8_t*>("world"), 5));
  EXPECT_EQ(h.Finish(), Blake2b256("hello world"));
}

TEST(HashTest, FileHashMatchesContentsAndMissingFileIsIoError) {
  auto path = std::filesystem::temp_directory_path() / "infernet_hash_test.bin";
  std::string content(3 << 20, 'x');  // spans several read chunks
  content[12345] = 'y';
  { std::ofstream(path, std::ios::binary) << content; }
  auto digest = Blake2b256File(path);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  EXPECT_EQ(*digest, Blake2b256(content));
  std::filesystem::remove(path);
  EXPECT_EQ(Blake2b256File(path).status().code(), StatusCode::kIo);
}

}  // namespace
}  // namespace infernet
