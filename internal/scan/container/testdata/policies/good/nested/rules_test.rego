# Policy unit tests are skipped by the loader (this file would not compile).
package palisade.docker
this is not rego
