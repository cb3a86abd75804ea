// A small JSON Schema validator for the tests of hwopt's documented JSON outputs: supports the
// keywords docs/schemas/*.json use (type, required, properties, additionalProperties, items,
// enum, minimum, maximum, minItems, minLength, $ref to "#/$defs/NAME").
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hwopt::testing {

inline bool json_type_is(const nlohmann::json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  return false;
}

/// Appends to `errors` every violation of `schema` by `value` ("path: what").
inline void validate_json(const nlohmann::json& value, const nlohmann::json& schema, const nlohmann::json& root,
                          const std::string& path, std::vector<std::string>& errors) {
  if (schema.contains("$ref")) {
    const std::string ref = schema["$ref"];
    const std::string prefix = "#/$defs/";
    if (ref.rfind(prefix, 0) != 0 || !root["$defs"].contains(ref.substr(prefix.size()))) {
      errors.push_back(path + ": unresolvable $ref " + ref);
      return;
    }
    validate_json(value, root["$defs"][ref.substr(prefix.size())], root, path, errors);
    return;
  }
  if (schema.contains("type")) {
    bool ok = false;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) ok = ok || json_type_is(value, t);
    } else {
      ok = json_type_is(value, schema["type"]);
    }
    if (!ok) {
      errors.push_back(path + ": expected " + schema["type"].dump() + ", got " + value.dump().substr(0, 80));
      return;
    }
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& e : schema["enum"]) found = found || e == value;
    if (!found) errors.push_back(path + ": " + value.dump() + " not in " + schema["enum"].dump());
  }
  if (value.is_number()) {
    if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>())
      errors.push_back(path + ": " + value.dump() + " < minimum " + schema["minimum"].dump());
    if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>())
      errors.push_back(path + ": " + value.dump() + " > maximum " + schema["maximum"].dump());
  }
  if (value.is_string() && schema.contains("minLength") && value.get<std::string>().size() < schema["minLength"].get<size_t>())
    errors.push_back(path + ": string shorter than " + schema["minLength"].dump());
  if (value.is_array()) {
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<size_t>())
      errors.push_back(path + ": fewer than " + schema["minItems"].dump() + " items");
    if (schema.contains("items"))
      for (size_t i = 0; i < value.size(); ++i)
        validate_json(value[i], schema["items"], root, path + "/" + std::to_string(i), errors);
  }
  if (value.is_object()) {
    if (schema.contains("required"))
      for (const auto& key : schema["required"])
        if (!value.contains(key.get<std::string>())) errors.push_back(path + ": missing required key " + key.dump());
    for (const auto& [key, v] : value.items()) {
      if (schema.contains("properties") && schema["properties"].contains(key)) {
        validate_json(v, schema["properties"][key], root, path + "/" + key, errors);
      } else if (schema.contains("additionalProperties")) {
        const auto& extra = schema["additionalProperties"];
        if (extra.is_boolean()) {
          if (!extra.get<bool>()) errors.push_back(path + ": unexpected key '" + key + "'");
        } else {
          validate_json(v, extra, root, path + "/" + key, errors);
        }
      }
    }
  }
}

/// Validates `value` against the schema file at `schema_path`; returns the violations.
inline std::vector<std::string> validate_json_file_schema(const nlohmann::json& value, const std::string& schema_path) {
  std::ifstream in(schema_path);
  if (!in) return {"cannot read schema " + schema_path};
  const nlohmann::json schema = nlohmann::json::parse(in);
  std::vector<std::string> errors;
  validate_json(value, schema, schema, "", errors);
  return errors;
}

}  // namespace hwopt::testing
