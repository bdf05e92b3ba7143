#include "client/model_puller.h"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <random>

#include "core/hex.h"
#include "net/signed_envelope.h"
#include "provider/model_chunk_server.h"

namespace infernet::client {
namespace {

constexpr uint32_t kChunk = 64 << 10;

std::filesystem::path FreshDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("infernet_puller_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A peer backed by a real ModelChunkServer, with injectable faults.
class FakeSource final : public ChunkSource {
 public:
  FakeSource(const std::filesystem::path& model_dir, uint64_t identity_seed, const Clock& clock)
      : identity_(Identity(identity_seed)), clock_(clock) {
    store_ = std::move(provider::ModelStore::Open(model_dir)).value();
    server_ = std::make_unique<provider::ModelChunkServer>(*store_, identity_, clock_, kChunk);
  }
  static NodeIdentity Identity(uint64_t seed) {
    std::array<uint8_t, 32> bytes{};
    bytes[0] = static_cast<uint8_t>(seed);
    bytes[1] = 0x5a;
    return NodeIdentity::FromSeed(bytes);
  }

  const NodeId& node_id() const override { return claimed_id_ ? *claimed_id_ : identity_.id(); }
  std::string Describe() const override { return "fake-" + node_id().ShortHex(); }
  Result<v1::SignedEnvelope> GetManifest(const Digest32& hash) override {
    if (manifest_override) return *manifest_override;
    return server_->Manifest(hash);
  }
  Result<v1::Chunk> GetChunk(const Digest32& hash, uint32_t index) override {
    ++chunk_requests;
    if (fail_after_chunks >= 0 && chunk_requests > fail_after_chunks) {
      return Status(StatusCode::kUnavailable, "connection lost");
    }
    auto chunk = server_->ReadChunk(hash, index);
    if (chunk.ok() && corrupt_chunk == static_cast<int>(index)) (*chunk->mutable_data())[7] ^= 1;
    return chunk;
  }

  NodeIdentity identity_;
  const Clock& clock_;
  std::unique_ptr<provider::ModelStore> store_;
  std::unique_ptr<provider::ModelChunkServer> server_;
  std::optional<NodeId> claimed_id_;
  std::optional<v1::SignedEnvelope> manifest_override;
  int fail_after_chunks = -1;
  int corrupt_chunk = -1;
  int chunk_requests = 0;
};

class ModelPullerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    served_ = FreshDir(std::string(info->name()) + "_served");
    target_ = FreshDir(std::string(info->name()) + "_target");
    bytes_ = RandomBytes(5 * kChunk + 1234, 7);  // six chunks, the last one short
    WriteFile(served_ / "model.gguf", bytes_);
    hash_ = Blake2b256(bytes_);
  }
  void TearDown() override {
    std::filesystem::remove_all(served_);
    std::filesystem::remove_all(target_);
  }
  std::string ReadAll(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  ManualClock clock_{1'800'000'000'000};
  std::filesystem::path served_, target_;
  std::string bytes_;
  Digest32 hash_;
};

TEST_F(ModelPullerTest, PullsAndVerifiesTheWholeFile) {
  FakeSource peer(served_, 1, clock_);
  std::vector<PullProgress> reports;
  PullOptions options;
  options.on_progress = [&](const PullProgress& p) { reports.push_back(p); };
  auto path = PullModel(hash_, {&peer}, target_, clock_, options);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, target_ / (HexEncode(hash_) + ".gguf"));
  EXPECT_EQ(ReadAll(*path), bytes_);
  EXPECT_FALSE(std::filesystem::exists(target_ / (HexEncode(hash_) + ".gguf.partial")));
  ASSERT_EQ(reports.size(), 6u);
  EXPECT_EQ(reports.back().chunks_done, 6u);
  EXPECT_EQ(reports.back().bytes_done, bytes_.size());
}

TEST_F(ModelPullerTest, CorruptChunkFromOnePeerIsFetchedFromAnother) {
  FakeSource bad(served_, 1, clock_);
  FakeSource good(served_, 2, clock_);
  bad.corrupt_chunk = 2;
  auto path = PullModel(hash_, {&bad, &good}, target_, clock_);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(ReadAll(*path), bytes_);
}

TEST_F(ModelPullerTest, InterruptedPullResumesWithoutRefetchingVerifiedChunks) {
  FakeSource flaky(served_, 1, clock_);
  flaky.fail_after_chunks = 2;
  PullOptions options;
  options.max_failures_per_source = 1;
  auto first = PullModel(hash_, {&flaky}, target_, clock_, options);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(first.status().message().find("chunk 2"), std::string::npos)
      << first.status().message();
  EXPECT_TRUE(std::filesystem::exists(target_ / (HexEncode(hash_) + ".gguf.partial")));

  FakeSource good(served_, 2, clock_);
  PullProgress last;
  options.on_progress = [&](const PullProgress& p) { last = p; };
  auto second = PullModel(hash_, {&good}, target_, clock_, options);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(ReadAll(*second), bytes_);
  EXPECT_EQ(last.chunks_resumed, 2u);
  EXPECT_EQ(good.chunk_requests, 4);
}

TEST_F(ModelPullerTest, ManifestSignedByAnotherNodeIsRefused) {
  FakeSource impostor(served_, 1, clock_);
  impostor.claimed_id_ = FakeSource::Identity(9).id();  // dialed as node 9, signs as node 1
  auto path = PullModel(hash_, {&impostor}, target_, clock_);
  ASSERT_FALSE(path.ok());
  EXPECT_NE(path.status().message().find("signed by another node"), std::string::npos)
      << path.status().message();
}

TEST_F(ModelPullerTest, LyingManifestIsBlamedAndAnotherPeersManifestUsed) {
  // The liar serves a consistent manifest and chunks of different bytes under the same hash.
  auto other_dir = FreshDir("liar_model");
  WriteFile(other_dir / "model.gguf", RandomBytes(bytes_.size(), 99));
  FakeSource liar(other_dir, 1, clock_);
  Digest32 other_hash = Blake2b256(RandomBytes(bytes_.size(), 99));
  v1::ModelManifest manifest;
  auto honest_envelope = liar.server_->Manifest(other_hash);
  ASSERT_TRUE(honest_envelope.ok());
  ASSERT_TRUE(manifest.ParseFromString(honest_envelope->body()));
  manifest.clear_header();
  manifest.set_model_hash(std::string(reinterpret_cast<const char*>(hash_.data()), 32));
  liar.manifest_override = net::SignClaim(manifest, liar.identity_, clock_);
  // Chunks requested under hash_ must come from the liar's own file.
  struct Redirect final : ChunkSource {
    FakeSource* inner;
    Digest32 real;
    const NodeId& node_id() const override { return inner->node_id(); }
    std::string Describe() const override { return inner->Describe(); }
    Result<v1::SignedEnvelope> GetManifest(const Digest32& h) override {
      return inner->GetManifest(h);
    }
    Result<v1::Chunk> GetChunk(const Digest32&, uint32_t i) override {
      return inner->GetChunk(real, i);
    }
  } redirect;
  redirect.inner = &liar;
  redirect.real = other_hash;
  FakeSource good(served_, 2, clock_);

  auto only_liar = PullModel(hash_, {&redirect}, target_, clock_);
  ASSERT_FALSE(only_liar.ok());
  EXPECT_NE(only_liar.status().message().find("does not hash to the model hash"), std::string::npos)
      << only_liar.status().message();

  auto path = PullModel(hash_, {&redirect, &good}, target_, clock_);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(ReadAll(*path), bytes_);
  std::filesystem::remove_all(other_dir);
}

TEST_F(ModelPullerTest, ModelNobodyHoldsFailsNamingTheModel) {
  FakeSource peer(served_, 1, clock_);
  Digest32 unknown = Blake2b256(std::string("nobody has this"));
  auto path = PullModel(unknown, {&peer}, target_, clock_);
  ASSERT_FALSE(path.ok());
  EXPECT_NE(path.status().message().find(HexEncode(unknown)), std::string::npos);
  EXPECT_FALSE(PullModel(unknown, {}, target_, clock_).ok());
}

TEST_F(ModelPullerTest, CompleteFileIsReturnedWithoutAskingPeers) {
  WriteFile(target_ / (HexEncode(hash_) + ".gguf"), bytes_);
  FakeSource peer(served_, 1, clock_);
  peer.fail_after_chunks = 0;
  auto path = PullModel(hash_, {&peer}, target_, clock_);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(peer.chunk_requests, 0);
}

}  // namespace
}  // namespace infernet::client
