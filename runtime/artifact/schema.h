//===- schema.h - The artifact schema's name and version --------*- C++ -*-===//
//
// Part of infir2. The runtime owns the artifact schema (docs/artifact.md);
// the compiler includes this header to write what the runtime reads. No
// dependencies, so either half can include it.
//
//===----------------------------------------------------------------------===//

#ifndef INFIR2_RUNTIME_ARTIFACT_SCHEMA_H_
#define INFIR2_RUNTIME_ARTIFACT_SCHEMA_H_

namespace infir2::artifact {
inline constexpr const char *kSchemaName = "infir2-artifact";
/// Bump on any change a runtime of the previous version would misread.
inline constexpr int kSchemaVersion = 2;
} // namespace infir2::artifact

#endif // INFIR2_RUNTIME_ARTIFACT_SCHEMA_H_
