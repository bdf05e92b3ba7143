// TLS bound to node identities, over real gRPC on 127.0.0.1.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "infernet/v1/service.grpc.pb.h"
#include "net/channel_options.h"
#include "net/node_certificate.h"
#include "net/tls_credentials.h"

namespace infernet::net {
namespace {

namespace gx = grpc::experimental;

NodeIdentity IdentityFromByte(uint8_t b) {
  std::array<uint8_t, 32> seed{};
  seed.fill(b);
  return NodeIdentity::FromSeed(seed);
}

// Ping answers and records who called; a nonce "block" holds the call until released.
class RecordingService final : public v1::Provider::Service {
 public:
  grpc::Status Ping(grpc::ServerContext* context, const v1::PingRequest* request,
                    v1::PingResponse* response) override {
    auto peer = PeerNodeId(*context);
    {
      std::lock_guard lock(mutex_);
      if (peer.ok()) last_caller_ = *peer;
    }
    if (request->nonce() == "block") {
      std::unique_lock lock(mutex_);
      released_.wait(lock, [this] { return release_; });
    }
    response->set_nonce(request->nonce());
    response->set_protocol_version(1);
    return grpc::Status::OK;
  }
  void Release() {
    std::lock_guard lock(mutex_);
    release_ = true;
    released_.notify_all();
  }
  std::optional<NodeId> last_caller() {
    std::lock_guard lock(mutex_);
    return last_caller_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  bool release_ = false;
  std::optional<NodeId> last_caller_;
};

class TlsTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto credentials = ServerCredentialsFor(server_identity_);
    ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
    grpc::ServerBuilder builder;
    ConfigureServer(builder);
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    service_.Release();
    server_->Shutdown();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  grpc::Status PingWith(std::shared_ptr<grpc::ChannelCredentials> credentials,
                        const std::string& nonce = "hello", int timeout_ms = 5000) {
    auto channel = grpc::CreateCustomChannel(address(), credentials, PeerChannelArguments());
    auto stub = v1::Provider::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    v1::PingRequest request;
    request.set_nonce(nonce);
    v1::PingResponse response;
    grpc::Status status = stub->Ping(&context, request, &response);
    if (status.ok()) {
      EXPECT_EQ(response.nonce(), nonce);
    }
    return status;
  }

  NodeIdentity server_identity_ = IdentityFromByte(1);
  NodeIdentity client_identity_ = IdentityFromByte(2);
  RecordingService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(TlsTransportTest, PeersDialedByTheirNodeIdTalkAndServerLearnsTheCaller) {
  auto credentials = ChannelCredentialsFor(client_identity_, server_identity_.id());
  ASSERT_TRUE(credentials.ok());
  grpc::Status status = PingWith(*credentials);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(service_.last_caller().has_value());
  EXPECT_EQ(*service_.last_caller(), client_identity_.id());
}

TEST_F(TlsTransportTest, ServerWithAnotherNodeIdIsRefused) {
  NodeIdentity someone_else = IdentityFromByte(3);
  auto credentials = ChannelCredentialsFor(client_identity_, someone_else.id());
  ASSERT_TRUE(credentials.ok());
  grpc::Status status = PingWith(*credentials);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_FALSE(service_.last_caller().has_value());
}

// Accepts any server certificate: lets a test client get past its own checks so that what is
// tested is the server's refusal.
class AcceptAnything final : public gx::ExternalCertificateVerifier {
 public:
  bool Verify(gx::TlsCustomVerificationCheckRequest*, std::function<void(grpc::Status)>,
              grpc::Status* sync_status) override {
    *sync_status = grpc::Status::OK;
    return true;
  }
  void Cancel(gx::TlsCustomVerificationCheckRequest*) override {}
};

std::shared_ptr<grpc::ChannelCredentials> LaxClient(const std::optional<NodeCertificate>& cert) {
  gx::TlsChannelCredentialsOptions options;
  if (cert) {
    std::vector<gx::IdentityKeyCertPair> pairs = {{cert->private_key_pem, cert->certificate_pem}};
    options.set_certificate_provider(std::make_shared<gx::StaticDataCertificateProvider>(pairs));
    options.watch_identity_key_cert_pairs();
  }
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(gx::ExternalCertificateVerifier::Create<AcceptAnything>());
  return gx::TlsCredentials(options);
}

TEST_F(TlsTransportTest, ClientWithoutCertificateIsRefused) {
  ASSERT_TRUE(PingWith(LaxClient(*MakeNodeCertificate(client_identity_))).ok())
      << "control: the lax client is accepted when it presents a node certificate";
  grpc::Status status = PingWith(LaxClient(std::nullopt));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(TlsTransportTest, OversizedMessageIsRefused) {
  auto credentials = ChannelCredentialsFor(client_identity_, server_identity_.id());
  ASSERT_TRUE(credentials.ok());
  grpc::Status status = PingWith(*credentials, std::string(kMaxMessageBytes + 1, 'x'));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_TRUE(PingWith(*credentials, std::string(1 << 20, 'x')).ok());
}

TEST_F(TlsTransportTest, DeadlineEndsACallTheServerHolds) {
  auto credentials = ChannelCredentialsFor(client_identity_, server_identity_.id());
  ASSERT_TRUE(credentials.ok());
  grpc::Status status = PingWith(*credentials, "block", /*timeout_ms=*/300);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
}

// Opens a raw TLS connection (ALPN h2, presenting a valid node certificate) limited to
// [min, max] and reports whether the handshake completed.
bool HandshakeCompletes(int port, int min_version, int max_version) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  auto cert = MakeNodeCertificate(IdentityFromByte(9));
  BIO* cert_bio =
      BIO_new_mem_buf(cert->certificate_pem.data(), static_cast<int>(cert->certificate_pem.size()));
  BIO* key_bio =
      BIO_new_mem_buf(cert->private_key_pem.data(), static_cast<int>(cert->private_key_pem.size()));
  X509* x509 = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  SSL_CTX_use_certificate(ctx, x509);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(x509);
  EVP_PKEY_free(key);
  BIO_free(cert_bio);
  BIO_free(key_bio);
  // Undo what RequireTls13 put into every new context of this process, so that what refuses
  // TLS 1.2 below is the server.
  SSL_CTX_clear_options(ctx, SSL_OP_NO_TLSv1_2);
  SSL_CTX_set_min_proto_version(ctx, min_version);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof(kAlpn));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool completed = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    completed = SSL_connect(ssl) == 1;
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  return completed;
}

TEST_F(TlsTransportTest, OnlyTls13IsSpoken) {
  EXPECT_TRUE(HandshakeCompletes(port_, TLS1_3_VERSION, TLS1_3_VERSION))
      << "control: a TLS 1.3 client gets through the handshake";
  EXPECT_FALSE(HandshakeCompletes(port_, TLS1_2_VERSION, TLS1_2_VERSION));
}

TEST(NodeCertificateTest, CertificateStandsForItsNodeAndNothingElse) {
  NodeIdentity identity = IdentityFromByte(7);
  auto cert = MakeNodeCertificate(identity);
  ASSERT_TRUE(cert.ok());
  auto id = NodeIdFromCertificatePem(cert->certificate_pem);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, identity.id());

  EXPECT_FALSE(NodeIdFromCertificatePem("").ok());
  EXPECT_FALSE(
      NodeIdFromCertificatePem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
          .ok());
  // A byte changed inside the signed part breaks the self-signature.
  std::string tampered = cert->certificate_pem;
  size_t body = tampered.find('\n') + 40;
  tampered[body] = tampered[body] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(NodeIdFromCertificatePem(tampered).ok());
}

}  // namespace
}  // namespace infernet::net
