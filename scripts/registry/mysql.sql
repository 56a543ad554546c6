-- The tables of Hortonworks Schema Registry 0.9.1's JDBC storage, for the
-- stack's MariaDB (scripts/stack creates the database and runs this on
-- every start; every statement is idempotent). The registry neither creates
-- nor migrates them itself. Column names are the field names of the
-- registry's storable classes, which its queries use as they are.

CREATE TABLE IF NOT EXISTS schema_metadata_info (
  id              BIGINT AUTO_INCREMENT NOT NULL,
  type            VARCHAR(255) NOT NULL,
  schemaGroup     VARCHAR(255) NOT NULL,
  name            VARCHAR(255) NOT NULL,
  compatibility   VARCHAR(255) NOT NULL,
  validationLevel VARCHAR(255) NOT NULL,
  description     TEXT,
  evolve          BOOLEAN NOT NULL,
  timestamp       BIGINT NOT NULL,
  PRIMARY KEY (name),
  UNIQUE KEY (id)
);

-- Subject versions: id is the schema id of the Confluent API.
CREATE TABLE IF NOT EXISTS schema_version_info (
  id               BIGINT AUTO_INCREMENT NOT NULL,
  description      TEXT,
  schemaText       MEDIUMTEXT NOT NULL,
  fingerprint      TEXT NOT NULL,
  version          INT NOT NULL,
  schemaMetadataId BIGINT NOT NULL,
  timestamp        BIGINT NOT NULL,
  state            TINYINT NOT NULL DEFAULT 5,
  name             VARCHAR(255) NOT NULL,
  PRIMARY KEY (name, version),
  UNIQUE KEY (id),
  UNIQUE KEY (schemaMetadataId, version),
  FOREIGN KEY (schemaMetadataId, name)
    REFERENCES schema_metadata_info (id, name)
    ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS schema_field_info (
  id               BIGINT AUTO_INCREMENT NOT NULL,
  schemaInstanceId BIGINT NOT NULL,
  timestamp        BIGINT NOT NULL,
  name             VARCHAR(255) NOT NULL,
  fieldNamespace   VARCHAR(255),
  type             VARCHAR(255) NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (schemaInstanceId) REFERENCES schema_version_info (id)
    ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS schema_serdes_info (
  id                    BIGINT AUTO_INCREMENT NOT NULL,
  description           TEXT,
  name                  TEXT NOT NULL,
  fileId                TEXT NOT NULL,
  serializerClassName   TEXT NOT NULL,
  deserializerClassName TEXT NOT NULL,
  timestamp             BIGINT NOT NULL,
  PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS schema_serdes_mapping (
  schemaMetadataId BIGINT NOT NULL,
  serDesId         BIGINT NOT NULL,
  UNIQUE KEY (schemaMetadataId, serDesId)
);

CREATE TABLE IF NOT EXISTS schema_version_state (
  id              BIGINT AUTO_INCREMENT NOT NULL,
  schemaVersionId BIGINT NOT NULL,
  stateId         TINYINT NOT NULL,
  sequence        INT NOT NULL,
  timestamp       BIGINT NOT NULL,
  details         BLOB,
  PRIMARY KEY (schemaVersionId, stateId, sequence),
  UNIQUE KEY (id)
);

CREATE TABLE IF NOT EXISTS schema_branch (
  id                 BIGINT NOT NULL AUTO_INCREMENT,
  name               VARCHAR(255) NOT NULL,
  schemaMetadataName VARCHAR(255) NOT NULL,
  description        TEXT,
  timestamp          BIGINT DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY (name, schemaMetadataName),
  FOREIGN KEY (schemaMetadataName) REFERENCES schema_metadata_info (name)
    ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS schema_branch_version_mapping (
  schemaBranchId      BIGINT NOT NULL,
  schemaVersionInfoId BIGINT NOT NULL,
  UNIQUE KEY (schemaBranchId, schemaVersionInfoId),
  FOREIGN KEY (schemaBranchId) REFERENCES schema_branch (id)
    ON DELETE CASCADE ON UPDATE CASCADE,
  FOREIGN KEY (schemaVersionInfoId) REFERENCES schema_version_info (id)
    ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS host_config (
  id        BIGINT NOT NULL AUTO_INCREMENT,
  hostUrl   VARCHAR(255) NOT NULL,
  timestamp BIGINT NOT NULL,
  PRIMARY KEY (hostUrl),
  UNIQUE KEY (id)
);

-- Locks a subject while a version is added to it.
CREATE TABLE IF NOT EXISTS schema_lock (
  name      VARCHAR(255) NOT NULL,
  timestamp BIGINT,
  PRIMARY KEY (name)
);
