/** An HNSW library module that fails to load, as a native binary missing for the platform would. */
throw new Error("simulated: usearch.node could not be loaded");
