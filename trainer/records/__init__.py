"""Training records (培训档案): what the other areas hold about a person, read and put together
for HR, trainers and the person themself, as a page, a PDF and a workbook. Records reads the
other areas and writes only its own tables and the audit events of its exports."""
