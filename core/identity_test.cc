#include "core/identity.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/hash.h"
#include "core/hex.h"

namespace infernet {
namespace {

namespace fs = std::filesystem;

std::array<uint8_t, 32> Seed(uint8_t tag) {
  std::array<uint8_t, 32> seed;
  seed.fill(tag);
  return seed;
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("infernet_identity_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `text` as a key file with `mode`.
  fs::path Write(const std::string& text,
                 fs::perms mode = fs::perms::owner_read | fs::perms::owner_write) {
    fs::path path = dir_ / "written.key";
    std::ofstream(path) << text;
    fs::permissions(path, mode);
    return path;
  }

  // A valid key file's JSON for seed `tag`.
  nlohmann::json ValidJson(uint8_t tag) {
    fs::path path = dir_ / ("valid" + std::to_string(tag) + ".key");
    EXPECT_TRUE(NodeIdentity::FromSeed(Seed(tag)).Save(path).ok());
    std::ifstream in(path);
    nlohmann::json doc = nlohmann::json::parse(in);
    fs::remove(path);
    return doc;
  }

  fs::path dir_;
};

TEST(NodeIdentityTest, GeneratedIdentitiesAreDistinctAndConsistent) {
  NodeIdentity a = NodeIdentity::Generate();
  NodeIdentity b = NodeIdentity::Generate();
  EXPECT_NE(a.id(), b.id());
  EXPECT_NE(a.signing_public_key(), b.signing_public_key());
  EXPECT_NE(a.encryption_public_key(), b.encryption_public_key());
  EXPECT_EQ(a.id(), NodeId::FromPublicKey(a.signing_public_key()));
}

TEST(NodeIdentityTest, FromSeedIsDeterministic) {
  NodeIdentity a = NodeIdentity::FromSeed(Seed(1));
  NodeIdentity b = NodeIdentity::FromSeed(Seed(1));
  NodeIdentity c = NodeIdentity::FromSeed(Seed(2));
  EXPECT_EQ(a.id(), b.id());
  EXPECT_EQ(a.signing_public_key(), b.signing_public_key());
  EXPECT_EQ(a.encryption_public_key(), b.encryption_public_key());
  EXPECT_NE(a.id(), c.id());
  EXPECT_TRUE(std::equal(a.signing_seed().begin(), a.signing_seed().end(), Seed(1).begin()));
  // The X25519 key is not the Ed25519 key.
  EXPECT_NE(a.signing_public_key(), a.encryption_public_key());
}

TEST(NodeIdentityTest, NodeIdIsBlake2bOfTheSigningKey) {
  NodeIdentity identity = NodeIdentity::FromSeed(Seed(3));
  EXPECT_EQ(identity.id().bytes,
            Blake2b256(std::span<const uint8_t>(identity.signing_public_key())));
}

TEST(NodeIdTest, HexRoundTripsInEitherCase) {
  NodeId id = NodeIdentity::FromSeed(Seed(4)).id();
  std::string hex = id.ToHex();
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(id.ShortHex(), hex.substr(0, 16));
  auto parsed = NodeId::FromHex(hex);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, id);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_TRUE(NodeId::FromHex(upper).ok());
  EXPECT_EQ(*NodeId::FromHex(upper), id);
}

TEST(NodeIdTest, BadHexIsRefusedWithAClearMessage) {
  for (std::string bad : {std::string(""), std::string(62, 'a'), std::string(66, 'a'),
                          std::string(63, 'a'), std::string(63, 'a') + "g"}) {
    auto parsed = NodeId::FromHex(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("64 hex digits"), std::string::npos);
  }
}

TEST(NodeIdentityTest, SignaturesVerifyOnlyForTheSameMessageKeyAndSignature) {
  NodeIdentity alice = NodeIdentity::FromSeed(Seed(5));
  NodeIdentity bob = NodeIdentity::FromSeed(Seed(6));
  const std::string message = "a claim";
  Signature signature = alice.Sign(Bytes(message));
  EXPECT_TRUE(VerifySignature(alice.signing_public_key(), Bytes(message), signature));
  EXPECT_FALSE(VerifySignature(alice.signing_public_key(), Bytes("a claiM"), signature));
  EXPECT_FALSE(VerifySignature(bob.signing_public_key(), Bytes(message), signature));
  Signature tampered = signature;
  tampered[0] ^= 1;
  EXPECT_FALSE(VerifySignature(alice.signing_public_key(), Bytes(message), tampered));
  // Ed25519 is deterministic: the same key and message give the same signature.
  EXPECT_EQ(alice.Sign(Bytes(message)), signature);
  // Empty messages are messages too.
  EXPECT_TRUE(VerifySignature(alice.signing_public_key(), {}, alice.Sign({})));
}

TEST(NodeIdentityTest, MovedIdentityKeepsItsKeys) {
  NodeIdentity original = NodeIdentity::FromSeed(Seed(7));
  const NodeId id = original.id();
  NodeIdentity moved = std::move(original);
  EXPECT_EQ(moved.id(), id);
  Signature signature = moved.Sign(Bytes("x"));
  EXPECT_TRUE(VerifySignature(moved.signing_public_key(), Bytes("x"), signature));
}

TEST_F(KeyFileTest, SaveCreatesAnOwnerOnlyFileThatLoadsBack) {
  NodeIdentity identity = NodeIdentity::FromSeed(Seed(8));
  fs::path path = dir_ / "node.key";
  ASSERT_TRUE(identity.Save(path).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = NodeIdentity::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->id(), identity.id());
  EXPECT_EQ(loaded->signing_public_key(), identity.signing_public_key());
  EXPECT_EQ(loaded->encryption_public_key(), identity.encryption_public_key());
  // No temporary file is left beside the key.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(KeyFileTest, SaveRefusesToOverwrite) {
  fs::path path = dir_ / "node.key";
  ASSERT_TRUE(NodeIdentity::FromSeed(Seed(9)).Save(path).ok());
  Status second = NodeIdentity::FromSeed(Seed(10)).Save(path);
  EXPECT_EQ(second.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(second.message().find("already exists"), std::string::npos);
  auto loaded = NodeIdentity::Load(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->id(), NodeIdentity::FromSeed(Seed(9)).id()) << "the first key survived";
}

TEST_F(KeyFileTest, SaveSucceedsDespiteALeftoverTemporaryFile) {
  // A crash between creating and linking the temporary file must not block key creation forever.
  fs::path path = dir_ / "node.key";
  std::ofstream(dir_ / "node.key.tmp") << "leftover";
  EXPECT_TRUE(NodeIdentity::FromSeed(Seed(11)).Save(path).ok());
}

TEST_F(KeyFileTest, SaveIntoAMissingDirectoryFailsClearly) {
  Status s = NodeIdentity::FromSeed(Seed(12)).Save(dir_ / "missing" / "node.key");
  EXPECT_EQ(s.code(), StatusCode::kIo);
  EXPECT_NE(s.message().find("missing"), std::string::npos);
}

TEST_F(KeyFileTest, LoadRefusesFilesOthersCanAccess) {
  const std::string text = ValidJson(13).dump();
  for (fs::perms extra : {fs::perms::group_read, fs::perms::others_read, fs::perms::group_write,
                          fs::perms::others_write}) {
    fs::path path = Write(text, fs::perms::owner_read | fs::perms::owner_write | extra);
    auto loaded = NodeIdentity::Load(path);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(loaded.status().message().find("chmod 600"), std::string::npos);
    fs::remove(path);
  }
}

TEST_F(KeyFileTest, LoadOfAMissingFileIsNotFound) {
  auto loaded = NodeIdentity::Load(dir_ / "absent.key");
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
  EXPECT_NE(loaded.status().message().find("absent.key"), std::string::npos);
}

TEST_F(KeyFileTest, LoadRefusesMalformedJson) {
  for (std::string text : {"", "{", "not json", "[1,2]", "\"string\""}) {
    auto loaded = NodeIdentity::Load(Write(text));
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorrupt) << text;
    EXPECT_NE(loaded.status().message().find("JSON"), std::string::npos) << text;
  }
}

TEST_F(KeyFileTest, LoadRefusesAnotherVersion) {
  for (nlohmann::json version : {nlohmann::json(2), nlohmann::json("1"), nlohmann::json()}) {
    nlohmann::json doc = ValidJson(14);
    doc["version"] = version;
    auto loaded = NodeIdentity::Load(Write(doc.dump()));
    EXPECT_EQ(loaded.status().code(), StatusCode::kUnsupported) << version;
    EXPECT_NE(loaded.status().message().find("version"), std::string::npos);
  }
  nlohmann::json doc = ValidJson(14);
  doc.erase("version");
  EXPECT_EQ(NodeIdentity::Load(Write(doc.dump())).status().code(), StatusCode::kUnsupported);
}

TEST_F(KeyFileTest, LoadRefusesMissingOrBadSecrets) {
  nlohmann::json doc = ValidJson(15);
  doc.erase("ed25519_seed");
  auto loaded = NodeIdentity::Load(Write(doc.dump()));
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(loaded.status().message().find("ed25519_seed"), std::string::npos);

  doc = ValidJson(15);
  doc["x25519_secret"] = "abcd";
  loaded = NodeIdentity::Load(Write(doc.dump()));
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(loaded.status().message().find("64 hex digits"), std::string::npos);
}

TEST_F(KeyFileTest, LoadRefusesAnX25519SecretFromAnotherKey) {
  nlohmann::json doc = ValidJson(16);
  doc["x25519_secret"] = ValidJson(17)["x25519_secret"];
  auto loaded = NodeIdentity::Load(Write(doc.dump()));
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(loaded.status().message().find("does not belong"), std::string::npos);
}

TEST_F(KeyFileTest, LoadRefusesPublicFieldsThatDisagreeWithTheSecrets) {
  nlohmann::json doc = ValidJson(18);
  doc["node_id"] = NodeIdentity::FromSeed(Seed(19)).id().ToHex();
  auto loaded = NodeIdentity::Load(Write(doc.dump()));
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(loaded.status().message().find("node_id"), std::string::npos);
}

TEST_F(KeyFileTest, LoadRefusesOversizedAndNonRegularFiles) {
  auto loaded = NodeIdentity::Load(Write(std::string(1 << 20, ' ')));
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorrupt);
  fs::path sub = dir_ / "sub";
  fs::create_directory(sub);
  fs::permissions(sub, fs::perms::owner_all);
  EXPECT_FALSE(NodeIdentity::Load(sub).ok());
}

}  // namespace
}  // namespace infernet
