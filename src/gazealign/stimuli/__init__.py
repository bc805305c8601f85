"""Face stimuli: dataset loaders, face crops, facial regions (AOIs), synthetic faces."""
