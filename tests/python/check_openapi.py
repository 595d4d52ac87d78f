"""Validates tessera's API definition with openapi-spec-validator, as a client would fetch it:
the landing page's service-desc link, then the document it names.

Prints one JSON line: the OpenAPI version, and each path with its methods. Exits non-zero,
with the validator's message, when the document is not valid OpenAPI.
"""

import json
import sys
import urllib.request

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError


def fetch(url, accept="application/json"):
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers.get("Content-Type", ""), json.load(response)


def main(base):
    _, landing = fetch(base + "/?f=json")
    desc = [link for link in landing["links"] if link["rel"] == "service-desc"]
    if len(desc) != 1:
        sys.exit(f"the landing page has {len(desc)} service-desc links")
    content_type, doc = fetch(desc[0]["href"], desc[0]["type"])
    try:
        validate(doc)
    except OpenAPIValidationError as e:
        sys.exit(f"not valid OpenAPI: {e.message[:2000]} at {list(e.absolute_path)}")
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    paths = {path: sorted(m for m in item if m in methods) for path, item in doc["paths"].items()}
    print(json.dumps({
        "openapi": doc["openapi"],
        "content_type": content_type,
        "link_type": desc[0]["type"],
        "paths": paths,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
