#include "net/tls_credentials.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/ssl.h>

#include <mutex>
#include <optional>

#include "net/node_certificate.h"

namespace infernet::net {
namespace {

namespace gx = grpc::experimental;

// Accepts a peer certificate only if it is a valid self-signed Ed25519 certificate and, when an
// expected node ID is set, if its key hashes to that ID. Runs synchronously in the handshake.
class NodeIdVerifier final : public gx::ExternalCertificateVerifier {
 public:
  explicit NodeIdVerifier(std::optional<NodeId> expected) : expected_(expected) {}

  bool Verify(gx::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    const grpc::string_ref pem = request->peer_cert();
    auto id = NodeIdFromCertificatePem(std::string_view(pem.data(), pem.size()));
    if (!id.ok()) {
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, id.status().message());
    } else if (expected_ && *id != *expected_) {
      *sync_status =
          grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                       "peer is node " + id->ToHex() + ", dialed as node " + expected_->ToHex());
    } else {
      *sync_status = grpc::Status::OK;
    }
    return true;  // synchronous
  }
  void Cancel(gx::TlsCustomVerificationCheckRequest*) override {}

 private:
  std::optional<NodeId> expected_;
};

Result<std::shared_ptr<gx::StaticDataCertificateProvider>> IdentityProvider(
    const NodeIdentity& identity) {
  INFERNET_ASSIGN_OR_RETURN(NodeCertificate cert, MakeNodeCertificate(identity));
  std::vector<gx::IdentityKeyCertPair> pairs = {{cert.private_key_pem, cert.certificate_pem}};
  return std::make_shared<gx::StaticDataCertificateProvider>(pairs);
}

}  // namespace

Status RequireTls13() {
  static std::once_flag once;
  static Status result;
  std::call_once(once, [] {
    // Load the system configuration first, so that a later implicit load (inside gRPC) is a
    // no-op and cannot replace the section loaded below.
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr);
    static const char kConfig[] =
        "openssl_conf = infernet_init\n"
        "[infernet_init]\nssl_conf = infernet_ssl\n"
        "[infernet_ssl]\nsystem_default = infernet_tls\n"
        "[infernet_tls]\nMinProtocol = TLSv1.3\nProtocol = -SSLv3, -TLSv1, -TLSv1.1, -TLSv1.2\n";
    BIO* bio = BIO_new_mem_buf(kConfig, -1);
    CONF* conf = NCONF_new(nullptr);
    long error_line = -1;
    if (bio == nullptr || conf == nullptr || NCONF_load_bio(conf, bio, &error_line) <= 0 ||
        CONF_modules_load(conf, nullptr, 0) <= 0) {
      result = Status::Internal("cannot configure OpenSSL to require TLS 1.3");
    }
    NCONF_free(conf);
    BIO_free(bio);
  });
  return result;
}

Result<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const NodeIdentity& identity) {
  INFERNET_RETURN_IF_ERROR(RequireTls13());
  INFERNET_ASSIGN_OR_RETURN(auto provider, IdentityProvider(identity));
  gx::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  options.set_certificate_verifier(
      gx::ExternalCertificateVerifier::Create<NodeIdVerifier>(std::nullopt));
  auto credentials = gx::TlsServerCredentials(options);
  if (!credentials) return Status::Internal("gRPC refused the TLS server options");
  return credentials;
}

Result<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const NodeIdentity& identity, const NodeId& expected_peer) {
  INFERNET_RETURN_IF_ERROR(RequireTls13());
  INFERNET_ASSIGN_OR_RETURN(auto provider, IdentityProvider(identity));
  gx::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  options.watch_identity_key_cert_pairs();
  // No CA and no host names: the verifier checks the key against the node ID instead.
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(
      gx::ExternalCertificateVerifier::Create<NodeIdVerifier>(expected_peer));
  auto credentials = gx::TlsCredentials(options);
  if (!credentials) return Status::Internal("gRPC refused the TLS channel options");
  return credentials;
}

Result<NodeId> PeerNodeId(const grpc::ServerContext& context) {
  auto auth = context.auth_context();
  if (!auth) return Status(StatusCode::kUnauthenticated, "call is not authenticated");
  auto values = auth->FindPropertyValues("x509_pem_cert");
  if (values.empty()) return Status(StatusCode::kUnauthenticated, "peer presented no certificate");
  return NodeIdFromCertificatePem(std::string_view(values[0].data(), values[0].size()));
}

}  // namespace infernet::net
