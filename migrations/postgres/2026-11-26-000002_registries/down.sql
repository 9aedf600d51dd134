DROP TABLE registries;
