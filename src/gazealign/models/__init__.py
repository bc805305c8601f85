"""Networks: VGG-Face and small VGG-style nets, weight loading, fine-tuning."""
