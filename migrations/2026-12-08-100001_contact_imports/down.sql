DROP TABLE import_errors;
DROP TABLE import_file_parts;
DROP TABLE imports;
