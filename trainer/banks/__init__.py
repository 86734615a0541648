"""Question banks: categories (knowledge points), versioned questions, import and export."""
